using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Models;

/// <summary>The GAP-CNN family by name: what <c>nanocam train --arch NAME</c> builds.</summary>
public static class Architectures
{
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        ["gapcnn"] = "conv 3×3 C→32, pool, 32→64, pool, 64→128, GAP, FC (the benchmark network; MNIST)",
        ["vgg"] = "VGG-style with BatchNorm: conv-BN-ReLU 3×3 C→16, pool, 16→32, 32→32, 32→64 dilated by 2, then 1×1 64→64 (32×32 last map for 64×64 input, receptive field 20 px), GAP, FC",
        ["resnet"] = "ResNet-style with BatchNorm: stem conv 3×3 C→16 + BN, residual blocks 16, 32 (stride 2), 64 (stride 2), GAP, FC",
    };

    public static GapCnn Create(string name, int inputChannels, int classes, int seed)
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
            _ => throw new ArgumentException($"unknown architecture '{name}' (known: {string.Join(", ", Descriptions.Keys)})"),
        };
    }
}
