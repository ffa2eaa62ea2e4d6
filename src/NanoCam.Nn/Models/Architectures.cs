using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Models;

/// <summary>The networks by name: what <c>nanocam train --arch NAME</c> builds (the GAP-CNN classifiers, then the dense-output networks).</summary>
public static class Architectures
{
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        ["gapcnn"] = "conv 3×3 C→32, pool, 32→64, pool, 64→128, GAP, FC (the benchmark network; MNIST)",
        ["vgg"] = "VGG-style with BatchNorm: conv-BN-ReLU 3×3 C→16, pool, 16→32, 32→32, 32→64 dilated by 2, then 1×1 64→64 (32×32 last map for 64×64 input, receptive field 20 px), GAP, FC",
        ["resnet"] = "ResNet-style with BatchNorm: stem conv 3×3 C→16 + BN, residual blocks 16, 32 (stride 2), 64 (stride 2), GAP, FC",
        ["abn-vgg"] = "Attention Branch Network on vgg: extractor conv-BN-ReLU C→16, pool, 16→32; attention branch 32→32, 32→32 dilated by 2, 1×1 to K class maps (GAP → scores), 1×1 to M + BN + sigmoid; perception on (1 + M)·g: 32→64 dilated by 2, 1×1 64→64, GAP, FC",
        ["abn-resnet"] = "Attention Branch Network on resnet: extractor stem C→16 + BN, residual block 16→32 (stride 2); attention branch residual block 32→32, 1×1 to K class maps (GAP → scores), 1×1 to M + BN + sigmoid; perception on (1 + M)·g: residual block 32→64 (stride 2), GAP, FC",
        ["seg-fcn"] = "fully convolutional segmentation, no GAP: conv-BN-ReLU C→16, pool, 16→32, pool, 32→32, 32→32 dilated by 2, 32→32 dilated by 4, 1×1 to K + 1 maps (background last), nearest upsampling ×4: [N, K + 1, H, W]; class-balanced per-pixel cross-entropy on the masks (shapes data)",
        ["det-grid"] = "YOLO-v1-style single-shot detector: four conv-BN-ReLU + pool stages 16, 32, 64, 64, conv 64→64, 1×1 to 4 + 1 + K per cell of an (H/16)×(W/16) grid, decoded to [N, boxes, cx cy w h obj classes…]; box L2 + objectness + class loss (shapes data)",
    };

    /// <summary>Whether <paramref name="name"/> is a network with a dense output (segmentation maps or detector boxes), not a classifier.</summary>
    public static bool IsDense(string name) => name is "seg-fcn" or "det-grid";

    /// <summary>
    /// The side of the attention map for an input side of <paramref name="inputSide"/> pixels, or null for an architecture
    /// without an attention branch: abn-vgg halves the input by a 2×2 max pool, abn-resnet by a stride-2 3×3 convolution
    /// with padding 1 (⌊(n − 1)/2⌋ + 1).
    /// </summary>
    public static int? AttentionMapSide(string name, int inputSide) => name switch
    {
        "abn-vgg" => inputSide / 2,
        "abn-resnet" => (inputSide - 1) / 2 + 1,
        _ => null,
    };

    /// <summary>The smallest attention map an ABN is built for: 2×2 (a 1×1 map cannot say where anything is).</summary>
    public const int MinimumAttentionMapSide = 2;

    /// <summary>Throws <see cref="ArgumentException"/> when an architecture with an attention branch gets images too small for that branch.</summary>
    public static void CheckInputSize(string name, int height, int width)
    {
        if (IsDense(name))
        {
            ((IDenseModel)CreateNetwork(name, 1, 1, 0)).CheckInputSize(height, width);
            return;
        }
        if (AttentionMapSide(name, Math.Min(height, width)) is { } side && side < MinimumAttentionMapSide)
        {
            int needed = 1;
            while (AttentionMapSide(name, needed) < MinimumAttentionMapSide) needed++;
            throw new ArgumentException($"--arch {name}: the images are {height}×{width} but its attention branch needs at least {needed}×{needed} (its attention map would be {side}×{side}; it must be at least {MinimumAttentionMapSide}×{MinimumAttentionMapSide})");
        }
    }

    /// <summary>The classifier <paramref name="name"/> with fresh weights; a dense-output architecture is refused with one line.</summary>
    public static GapCnn Create(string name, int inputChannels, int classes, int seed) =>
        CreateNetwork(name, inputChannels, classes, seed) as GapCnn
            ?? throw new ArgumentException($"architecture '{name}' has a dense output (segmentation maps or boxes), not class scores");

    /// <summary>The network <paramref name="name"/>, classifier or dense-output, with fresh weights drawn from <paramref name="seed"/>.</summary>
    public static Module CreateNetwork(string name, int inputChannels, int classes, int seed)
    {
        var rng = new Random(seed);
        Conv2d Conv(int cin, int cout) => new(cin, cout, 3, padding: 1, rng: rng);
        return name switch
        {
            "gapcnn" => new GapCnn(new Sequential(
                Conv(inputChannels, 32), new ReLU(), new MaxPool2d(2),
                Conv(32, 64), new ReLU(), new MaxPool2d(2),
                Conv(64, 128), new ReLU()), 128, classes, rng),
            // One pool only, so the last map is 32×32 (stride 2) for a 64×64 input; the last 3×3 conv is dilated by 2 to reach a
            // 20-px receptive field (3, 4 pool, 8, 12, 20) without a second pool; the 1×1 conv adds depth, not field. CAM boxes
            // overshoot an object by what lies outside its edge yet still sees it, and by the bilinear upsampling of the map
            // (half a cell on each side). At stride 4 (16×16 map, 22-px field) localization was 67–80% by seed; at stride 2,
            // seeds 1–5 gave 77–88%, mean 84% (weights/README.md has the runs). A 16-px field lit only corners of squares.
            "vgg" => new GapCnn(new Sequential(
                Conv(inputChannels, 16), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
                Conv(16, 32), new BatchNorm2d(32), new ReLU(),
                Conv(32, 32), new BatchNorm2d(32), new ReLU(),
                new Conv2d(32, 64, 3, padding: 2, dilation: 2, rng: rng), new BatchNorm2d(64), new ReLU(),
                new Conv2d(64, 64, 1, rng: rng), new BatchNorm2d(64), new ReLU()), 64, classes, rng),
            "resnet" => new GapCnn(new Sequential(
                new Conv2d(inputChannels, 16, 3, padding: 1, bias: false, rng: rng), new BatchNorm2d(16), new ReLU(),
                new ResidualBlock(16, 16, 1, rng),
                new ResidualBlock(16, 32, 2, rng),
                new ResidualBlock(32, 64, 2, rng)), 64, classes, rng),
            // The vgg and resnet networks split after their second stage: g is the 32-channel map at half the input's size.
            "abn-vgg" => new AttentionBranchNetwork(
                new Sequential(Conv(inputChannels, 16), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2), Conv(16, 32), new BatchNorm2d(32), new ReLU()),
                new AttentionBranch(new Sequential(
                    Conv(32, 32), new BatchNorm2d(32), new ReLU(),
                    new Conv2d(32, 32, 3, padding: 2, dilation: 2, rng: rng), new BatchNorm2d(32), new ReLU()), 32, classes, rng),
                new Sequential(
                    new Conv2d(32, 64, 3, padding: 2, dilation: 2, rng: rng), new BatchNorm2d(64), new ReLU(),
                    new Conv2d(64, 64, 1, rng: rng), new BatchNorm2d(64), new ReLU()), 64, classes, rng),
            "abn-resnet" => new AttentionBranchNetwork(
                new Sequential(new Conv2d(inputChannels, 16, 3, padding: 1, bias: false, rng: rng), new BatchNorm2d(16), new ReLU(), new ResidualBlock(16, 32, 2, rng)),
                new AttentionBranch(new Sequential(new ResidualBlock(32, 32, 1, rng)), 32, classes, rng),
                new Sequential(new ResidualBlock(32, 64, 2, rng)), 64, classes, rng),
            "seg-fcn" => new SegmentationFcn(inputChannels, classes, rng),
            "det-grid" => new GridDetector(inputChannels, classes, rng),
            _ => throw new ArgumentException($"unknown architecture '{name}' (known: {string.Join(", ", Descriptions.Keys)})"),
        };
    }
}
