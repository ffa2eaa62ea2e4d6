using NanoCam.Data;
using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// A seg-fcn and a det-grid as <c>nanocam train</c> writes them, two steps each on the shapes masks (64 training images,
/// batch 32, validation on test images 0–31), and test image 0 of the shapes data set as a PNG: the dense checkpoints
/// the commands' tests run on.
/// </summary>
public sealed class DenseCheckpoints : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-dense-checkpoints").FullName;

    public DenseCheckpoints()
    {
        Segmenter = Train("seg-fcn");
        Detector = Train("det-grid");
        Image = Path.Combine(_dir, "shape.png");
        ImageCodec.SavePng(RgbImage.FromPlanar(new ShapesDataset(1, DataSpec.ShapesTestSeed).GetImage(0), 3, 64, 64), Image);
    }

    /// <summary>The validation data the checkpoints were picked on (the test split).</summary>
    public const string Validation = "shapes#0-32";

    public string Segmenter { get; }
    public string Detector { get; }
    public string Image { get; }

    /// <summary>A fresh folder for a test's outputs.</summary>
    public string Folder(string name) => Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;

    private string Train(string architecture)
    {
        string model = Path.Combine(_dir, $"{architecture}.safetensors");
        var (code, _, stderr) = CliHarness.Run("train", "--arch", architecture, "--data", "shapes#0-64", "--validation", Validation, "--epochs", "1", "--batch", "32",
            "--threads", "1", "--out", model);
        if (code != 0) throw new InvalidOperationException($"train --arch {architecture} failed: {stderr}");
        return model;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
