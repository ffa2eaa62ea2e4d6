using NanoCam.Imaging;

namespace NanoCam.Cli.Tests;

/// <summary>
/// <c>explain --target</c> on the tiny exported classifier, segmentation network, detector and embedding model of
/// tests/NanoCam.Explain.Tests/Reference/targets/: each form writes its map (the values against PyTorch are held by
/// TargetReferenceTests); a target that does not fit the model's output is one line naming that output, exit 1.
/// </summary>
public sealed class TargetOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-target").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Reference(string file) => Path.Combine(CliHarness.RepoRoot, "tests", "NanoCam.Explain.Tests", "Reference", "targets", file);

    private (int Code, string Stdout, string Stderr) Explain(string model, params string[] extra) => CliHarness.Run(
        ["explain", "--model", Reference($"{model}.onnx"), "--input", Reference("input.npy"), "--layer", "trunk", "--threads", "1",
         "--out", Path.Combine(_dir, "out.png"), "--save-map", Path.Combine(_dir, "map.npy"), .. extra]);

    [Theory]
    [InlineData("classifier", "contrast:3,1", "gradcam for target contrast:3,1 at layer")]
    [InlineData("classifier", "softmax:3", "gradcam for target softmax:3 at layer")]
    [InlineData("classifier", "class:3", "gradcam for class 3 at layer")]
    [InlineData("binary", "binary:0", "gradcam for target binary:0 at layer")]
    [InlineData("segmenter", "segmentation:1", "gradcam for target segmentation:1 at layer")]
    [InlineData("detector", "box:2,2,10,11", "gradcam for target box:2,2,10,11 at layer")]
    [InlineData("embedder", "similarity:OTHER", "gradcam for target embedding at layer")]
    public void EachForm_WritesAMap(string model, string target, string printed)
    {
        // The similarity target's image is the reference folder's other input, written as a PNG here.
        if (target == "similarity:OTHER")
        {
            var (other, _) = Npy.Read(Reference("other.npy"));
            string png = Path.Combine(_dir, "other.png");
            ImageCodec.SavePng(RgbImage.FromPlanar(other.Select(v => Math.Clamp(0.5f + v / 6f, 0f, 1f)).ToArray(), 3, 16, 16), png);
            target = $"similarity:{png}";
        }
        var (code, stdout, stderr) = Explain(model, "--target", target);
        Assert.True(code == 0, stderr);
        Assert.Contains(printed, stdout);
        var (map, shape) = Npy.Read(Path.Combine(_dir, "map.npy"));
        Assert.Equal([16, 16], shape);
        Assert.Contains(map, v => v > 0f);
    }

    [Fact]
    public void SegmentationMask_FromAPng_IsTheRegionSummed()
    {
        var mask = new RgbImage(16, 16);
        for (int y = 2; y < 9; y++) for (int x = 5; x < 14; x++) { int o = (y * 16 + x) * 3; mask.Pixels[o] = mask.Pixels[o + 1] = mask.Pixels[o + 2] = 1f; }
        string path = Path.Combine(_dir, "mask.png");
        ImageCodec.SavePng(mask, path);
        var (code, stdout, stderr) = Explain("segmenter", "--target", $"segmentation:2,{path}", "--raw");
        Assert.True(code == 0, stderr);
        Assert.Contains("gradcam for target segmentation:2,mask", stdout);
    }

    [Theory]
    [InlineData("classifier", "box:2,2,10,11", "nanocam: error: --target box:2,2,10,11: box needs a detector's output [N, boxes, 4 + 1 + classes]; this model's output is [N, 5]")]
    [InlineData("classifier", "segmentation:1", "nanocam: error: --target segmentation:1: segmentation needs an output [N, classes, H, W]; this model's output is [N, 5]")]
    [InlineData("classifier", "class:9", "nanocam: error: --target class:9: class 9 is out of range: the model's output [N, 5] has 5 values per image (0–4)")]
    [InlineData("classifier", "binary", "nanocam: error: --target binary: a binary classifier has one logit; this model's output is [N, 5]")]
    [InlineData("segmenter", "segmentation:3", "nanocam: error: --target segmentation:3: class 3 is out of range: the model's output [N, 3, 16, 16] has 3 classes (0–2)")]
    [InlineData("detector", "box:2,2,10,11,3", "nanocam: error: --target box:2,2,10,11,3: class 3 is out of range: the detector's output [N, 16, 8] has 3 classes (0–2)")]
    [InlineData("detector", "box:30,30,40,40", "nanocam: error: box 30,30,40,40: no predicted box overlaps it with IoU ≥ 0.5 (the best overlaps 0.00)")]
    [InlineData("classifier", "frob:1", "nanocam: error: --target 'frob:1' is not one of: class:K (or K, or a class name), contrast:K,J, softmax:K, sigmoid:K, binary, binary:0, output:I, segmentation:K[,MASK.png|.npy], box:X1,Y1,X2,Y2[,K], embedding:REF.npy, similarity:IMAGE")]
    public void ATargetThatDoesNotFitTheOutput_IsOneLineNamingIt(string model, string target, string message)
    {
        var (code, _, stderr) = Explain(model, "--target", target);
        Assert.Equal(1, code);
        Assert.Equal(message, stderr.Trim());
        Assert.False(File.Exists(Path.Combine(_dir, "out.png")));
    }

    [Fact]
    public void AMaskOfTheWrongSize_IsRefused_NamingBothSizes()
    {
        string path = Path.Combine(_dir, "small.png");
        ImageCodec.SavePng(new RgbImage(8, 8), path);
        var (code, _, stderr) = Explain("segmenter", "--target", $"segmentation:1,{path}");
        Assert.Equal(1, code);
        Assert.Equal("nanocam: error: --target segmentation: the mask small.png is 8×8; the model's output [N, 3, 16, 16] has maps of 16×16", stderr.Trim());
    }

    [Fact]
    public void AMethodThatReadsClassScores_RefusesAnotherTarget_AndIsSkippedInAList()
    {
        var (code, _, stderr) = Explain("classifier", "--target", "softmax:3", "--method", "scorecam");
        Assert.Equal(1, code);
        Assert.StartsWith("nanocam: error: scorecam explains one class's score; the target softmax:3 is not one", stderr.Trim());
        (code, var stdout, stderr) = Explain("classifier", "--target", "softmax:3", "--method", "gradcam,scorecam,saliency");
        Assert.True(code == 0, stderr);
        Assert.Contains("nanocam: skipped scorecam: it explains one class's score, and the target softmax:3 is not one", stderr);
        Assert.Contains("nanocam: skipped saliency:", stderr);
        Assert.Contains("1 method(s) for target softmax:3 written to", stdout);
    }

    [Fact]
    public void ClassAndTarget_TogetherAreRefused()
    {
        var (code, _, stderr) = Explain("classifier", "--target", "softmax:3", "--class", "1");
        Assert.Equal(1, code);
        Assert.Equal("nanocam: error: give --class or --target, not both (--target class:K is --class K)", stderr.Trim());
    }

    [Fact]
    public void AnUnknownDetectorLayout_IsAUsageError()
    {
        var (code, _, stderr) = Explain("detector", "--target", "box:2,2,10,11", "--detector-layout", "ssd");
        Assert.Equal(2, code);
        Assert.StartsWith("nanocam: error: --detector-layout 'ssd' is not one of: yolo, yolo-xyxy", stderr.Trim());
    }
}
