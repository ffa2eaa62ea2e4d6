using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Models;

/// <summary>The GAP-CNN family by name: what <c>nanocam train --arch NAME</c> builds.</summary>
public static class Architectures
{
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        ["gapcnn"] = "conv 3×3 C→32, pool, 32→64, pool, 64→128, GAP, FC (the benchmark network; MNIST)",
        ["vgg"] = "VGG-style with BatchNorm: conv-BN-ReLU 3×3 C→16, pool, 16→32, pool, 32→64, 64→64 (no pooling after: the CAM paper keeps the last maps large; 16×16 for 64×64 input, receptive field 26 px), GAP, FC",
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
            // The last 3×3 conv sees 26 px at stride 4, about the size of the shapes (equal-area diameters 20–32 px), so the
            // class map spreads little past them; a 34-px field (a dilated last layer) made the 20% contour ~1.75× the object.
            "vgg" => new GapCnn(new Sequential(
                Conv(inputChannels, 16), new BatchNorm2d(16), new ReLU(), new MaxPool2d(2),
                Conv(16, 32), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
                Conv(32, 64), new BatchNorm2d(64), new ReLU(),
                Conv(64, 64), new BatchNorm2d(64), new ReLU()), 64, classes, rng),
            "resnet" => new GapCnn(new Sequential(
                new Conv2d(inputChannels, 16, 3, padding: 1, bias: false, rng: rng), new BatchNorm2d(16), new ReLU(),
                new ResidualBlock(16, 16, 1, rng),
                new ResidualBlock(16, 32, 2, rng),
                new ResidualBlock(32, 64, 2, rng)), 64, classes, rng),
            _ => throw new ArgumentException($"unknown architecture '{name}' (known: {string.Join(", ", Descriptions.Keys)})"),
        };
    }
}
