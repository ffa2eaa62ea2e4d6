using System.Globalization;
using System.Text.Json;
using NanoCam.Data;
using NanoCam.Imaging;
using NanoCam.Nn.Models;

namespace NanoCam.Cli.Tests;

/// <summary>
/// layers, predict, eval and cam on dense checkpoints (train --arch seg-fcn / det-grid, <see cref="DenseCheckpoints"/>),
/// and <c>--target segmentation:NAME</c>: each figure the commands print recomputed here from the network's output
/// tensor with plain loops (the argmax per pixel, the boxes' corners, the IoUs), and against training's own validation figure.
/// </summary>
public sealed class DenseModelCommandTests(DenseCheckpoints checkpoints) : IClassFixture<DenseCheckpoints>
{
    private const int Side = 64, Plane = Side * Side, Maps = 7, Boxes = 16, BoxWidth = 11, Background = 6;

    /// <summary>The network's output for images [N, 3, 64, 64] in [0, 1], normalized here by the checkpoint's mean and std.</summary>
    private static (float[] Output, ModelMetadata Metadata) Outputs(string checkpoint, float[] images, int count)
    {
        var trained = TrainedModel.Load(checkpoint);
        var m = trained.Metadata;
        var input = new float[images.Length];
        for (int n = 0; n < count; n++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < Plane; p++)
                {
                    int i = (n * 3 + c) * Plane + p;
                    input[i] = (images[i] - m.Mean[c]) / m.Std[c];
                }
        var tape = new Autodiff.Tape(new Cpu.Simd.SimdKernels(1)) { GradEnabled = false };
        return (trained.Model.Call(tape, Tensor.FromArray(input, count, 3, Side, Side)).ToArray(), m);
    }

    /// <summary>The PNG as CHW values in [0, 1], as the command reads it.</summary>
    private float[] ImageChw()
    {
        var image = ImageCodec.Load(checkpoints.Image);
        var chw = new float[3 * Plane];
        for (int p = 0; p < Plane; p++)
            for (int c = 0; c < 3; c++) chw[c * Plane + p] = image.Pixels[3 * p + c];
        return chw;
    }

    /// <summary>Test images 0…count−1 of the shapes data set, their labels and masks.</summary>
    private static (float[] Images, int[] Labels, float[] Masks) TestImages(int count)
    {
        var data = new ShapesDataset(count, DataSpec.ShapesTestSeed);
        var images = new float[count * 3 * Plane];
        var masks = new float[count * Plane];
        for (int i = 0; i < count; i++)
        {
            data.GetImage(i, images.AsSpan(i * 3 * Plane, 3 * Plane));
            data.GetMask(i, masks.AsSpan(i * Plane, Plane));
        }
        return (images, [.. Enumerable.Range(0, count).Select(data.GetLabel)], masks);
    }

    private static int PixelClass(ReadOnlySpan<float> image, int p)
    {
        int best = 0;
        for (int k = 1; k < Maps; k++) if (image[k * Plane + p] > image[best * Plane + p]) best = k;
        return best;
    }

    private static double IoU((double X1, double Y1, double X2, double Y2) a, (double X1, double Y1, double X2, double Y2) b)
    {
        double w = Math.Max(0, Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1)), h = Math.Max(0, Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1));
        double union = (a.X2 - a.X1) * (a.Y2 - a.Y1) + (b.X2 - b.X1) * (b.Y2 - b.Y1) - w * h;
        return union > 0 ? w * h / union : 0;
    }

    [Fact]
    public void Layers_OfDenseCheckpoints_ListTheirLayersAndOutput()
    {
        var seg = CliHarness.Run("layers", "--model", checkpoints.Segmenter);
        Assert.True(seg.ExitCode == 0, seg.Stderr);
        Assert.Matches(@"│ head\s+│ Conv2d\(32→7, 1×1[^│]*│ \[1, 7, 16, 16\]", seg.Stdout);
        Assert.Matches(@"│ features\s+│ Sequential\s+│ \[1, 32, 16, 16\]", seg.Stdout);
        Assert.Contains("output: [1, 7, 64, 64], per-pixel class logits (the classes, then background); default layer features; explain it with --target segmentation:K", seg.Stdout);
        var det = CliHarness.Run("layers", "--model", checkpoints.Detector);
        Assert.True(det.ExitCode == 0, det.Stderr);
        Assert.Matches(@"│ head\s+│ Conv2d\(64→11, 1×1[^│]*│ \[1, 11, 4, 4\]", det.Stdout);
        Assert.Contains("output: [1, 16, 11], decoded boxes", det.Stdout);
    }

    [Fact]
    public void Predict_Segmentation_PrintsEachClassShareOfThePredictedMask()
    {
        var (output, metadata) = Outputs(checkpoints.Segmenter, ImageChw(), 1);
        var counts = new int[Maps];
        for (int p = 0; p < Plane; p++) counts[PixelClass(output, p)]++;
        int maskClass = Background;
        for (int k = 0; k < Background; k++) if (counts[k] > 0 && (maskClass == Background || counts[k] > counts[maskClass])) maskClass = k;

        var (code, stdout, stderr) = CliHarness.Run("predict", "--model", checkpoints.Segmenter, "--image", checkpoints.Image, "--json", "--threads", "1");
        Assert.True(code == 0, stderr);
        var json = CliHarness.LastLineJson(stdout).RootElement;
        Assert.Equal(Plane, json.GetProperty("pixels").GetInt32());
        Assert.Equal(maskClass, json.GetProperty("mask_class").GetInt32());
        Assert.Equal(maskClass == Background ? "background" : metadata.Classes[maskClass], json.GetProperty("mask_label").GetString());
        var rows = json.GetProperty("segmentation").EnumerateArray().ToArray();
        Assert.Equal(Maps, rows.Length);
        for (int k = 0; k < Maps; k++)
        {
            Assert.Equal(k, rows[k].GetProperty("class").GetInt32());
            Assert.Equal(k == Background ? "background" : metadata.Classes[k], rows[k].GetProperty("label").GetString());
            Assert.Equal(counts[k], rows[k].GetProperty("pixels").GetInt32());
            Assert.Equal((double)counts[k] / Plane, rows[k].GetProperty("share").GetDouble(), 12);
        }

        var human = CliHarness.Run("predict", "--model", checkpoints.Segmenter, "--image", checkpoints.Image, "--threads", "1");
        Assert.True(human.ExitCode == 0, human.Stderr);
        Assert.Contains($"predicted mask: {rows[maskClass].GetProperty("label").GetString()} ({counts[maskClass]} of {Plane} pixels)", human.Stdout);
    }

    [Fact]
    public void Predict_Detection_PrintsTheBoxesAboveTheObjectnessThreshold()
    {
        var (rows, metadata) = Outputs(checkpoints.Detector, ImageChw(), 1);
        var objectness = Enumerable.Range(0, Boxes).Select(i => rows[i * BoxWidth + 4]).OrderDescending().ToArray();
        // Between the third and fourth highest: exactly three boxes pass.
        float threshold = (objectness[2] + objectness[3]) / 2;
        Assert.True(objectness[2] > threshold && threshold > objectness[3]);
        var expected = Enumerable.Range(0, Boxes).Where(i => rows[i * BoxWidth + 4] >= threshold).Select(i =>
        {
            var r = rows.AsSpan(i * BoxWidth, BoxWidth);
            int cls = 0;
            for (int k = 1; k < BoxWidth - 5; k++) if (r[5 + k] > r[5 + cls]) cls = k;
            return (Row: i, X1: r[0] - r[2] / 2, Y1: r[1] - r[3] / 2, X2: r[0] + r[2] / 2, Y2: r[1] + r[3] / 2, Objectness: r[4], Class: cls, Score: r[4] * r[5 + cls]);
        }).OrderByDescending(b => b.Score).ToArray();

        var (code, stdout, stderr) = CliHarness.Run("predict", "--model", checkpoints.Detector, "--image", checkpoints.Image, "--json", "--threads", "1",
            "--min-objectness", threshold.ToString("R", CultureInfo.InvariantCulture));
        Assert.True(code == 0, stderr);
        var boxes = CliHarness.LastLineJson(stdout).RootElement.GetProperty("boxes").EnumerateArray().ToArray();
        Assert.Equal(3, boxes.Length);
        for (int b = 0; b < 3; b++)
        {
            var e = expected[b];
            double Read(string key) => boxes[b].GetProperty(key).GetDouble();
            Assert.Equal(e.Row, boxes[b].GetProperty("row").GetInt32());
            Assert.Equal((e.X1, e.Y1, e.X2, e.Y2), ((float)Read("x1"), (float)Read("y1"), (float)Read("x2"), (float)Read("y2")));
            Assert.Equal(e.Objectness, (float)Read("objectness"));
            Assert.Equal(e.Class, boxes[b].GetProperty("class").GetInt32());
            Assert.Equal(metadata.Classes[e.Class], boxes[b].GetProperty("label").GetString());
            Assert.Equal(e.Score, Read("score"), 5);
            Assert.Equal(e.Score, Read("objectness") * Read("class_score"), 5);
        }

        var human = CliHarness.Run("predict", "--model", checkpoints.Detector, "--image", checkpoints.Image, "--threads", "1", "--min-objectness", "1");
        Assert.True(human.ExitCode == 0, human.Stderr);
        Assert.Contains($"no box of {Boxes} has objectness ≥ 1", human.Stdout);
    }

    [Fact]
    public void Eval_Segmentation_ReportsPerClassIoUAndMIoU()
    {
        const int count = 32;
        var (images, labels, masks) = TestImages(count);
        var (output, metadata) = Outputs(checkpoints.Segmenter, images, count);
        long[] intersection = new long[Maps], union = new long[Maps];
        int hits = 0;
        double iouSum = 0;
        for (int n = 0; n < count; n++)
        {
            var image = output.AsSpan(n * Maps * Plane, Maps * Plane);
            int both = 0, either = 0;
            for (int p = 0; p < Plane; p++)
            {
                bool inside = masks[n * Plane + p] >= 0.5f;
                int predicted = PixelClass(image, p), truth = inside ? labels[n] : Background;
                if (predicted == truth) { intersection[truth]++; union[truth]++; }
                else { union[truth]++; union[predicted]++; }
                if (predicted == labels[n] && inside) both++;
                if (predicted == labels[n] || inside) either++;
            }
            double iou = either == 0 ? 1 : (double)both / either;
            iouSum += iou;
            if (iou >= 0.5) hits++;
        }

        var (code, stdout, stderr) = CliHarness.Run("eval", "--model", checkpoints.Segmenter, "--data", DenseCheckpoints.Validation, "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        var json = CliHarness.LastLineJson(stdout).RootElement;
        Assert.Equal("segmentation", json.GetProperty("task").GetString());
        Assert.Equal(count, json.GetProperty("examples").GetInt32());
        Assert.Equal((double)hits / count, json.GetProperty("hit_rate").GetDouble(), 12);
        // Training's validation figure, on the same images.
        Assert.Equal(metadata.Accuracy!.Value, json.GetProperty("hit_rate").GetDouble(), 12);
        Assert.Equal(iouSum / count, json.GetProperty("mean_iou").GetDouble(), 4);
        var classIoU = json.GetProperty("class_iou");
        var names = metadata.Classes.Append("background").ToArray();
        var present = new List<double>();
        for (int k = 0; k < Maps; k++)
        {
            var value = classIoU.GetProperty(names[k]);
            if (union[k] == 0) { Assert.Equal(JsonValueKind.Null, value.ValueKind); continue; }
            double expected = (double)intersection[k] / union[k];
            present.Add(expected);
            Assert.Equal(expected, value.GetDouble(), 4);
        }
        Assert.Equal(present.Average(), json.GetProperty("miou").GetDouble(), 4);
        Assert.Contains($"mIoU {present.Average():F4}", stdout);
    }

    [Fact]
    public void Eval_Detection_ReportsHitRateMeanIoUAndClassAccuracy()
    {
        const int count = 32;
        var (images, labels, masks) = TestImages(count);
        var (output, metadata) = Outputs(checkpoints.Detector, images, count);
        int hits = 0, rightClass = 0;
        double iouSum = 0;
        for (int n = 0; n < count; n++)
        {
            var rows = output.AsSpan(n * Boxes * BoxWidth, Boxes * BoxWidth);
            int best = 0;
            for (int i = 1; i < Boxes; i++) if (rows[i * BoxWidth + 4] > rows[best * BoxWidth + 4]) best = i;
            var r = rows.Slice(best * BoxWidth, BoxWidth);
            int cls = 0;
            for (int k = 1; k < BoxWidth - 5; k++) if (r[5 + k] > r[5 + cls]) cls = k;
            int x0 = Side, y0 = Side, x1 = -1, y1 = -1;
            for (int y = 0; y < Side; y++)
                for (int x = 0; x < Side; x++)
                    if (masks[n * Plane + y * Side + x] >= 0.5f) { x0 = Math.Min(x0, x); y0 = Math.Min(y0, y); x1 = Math.Max(x1, x); y1 = Math.Max(y1, y); }
            double iou = IoU((r[0] - r[2] / 2, r[1] - r[3] / 2, r[0] + r[2] / 2, r[1] + r[3] / 2), (x0, y0, x1 + 1, y1 + 1));
            iouSum += iou;
            if (iou >= 0.5) hits++;
            if (cls == labels[n]) rightClass++;
        }

        var (code, stdout, stderr) = CliHarness.Run("eval", "--model", checkpoints.Detector, "--data", DenseCheckpoints.Validation, "--threads", "1", "--json");
        Assert.True(code == 0, stderr);
        var json = CliHarness.LastLineJson(stdout).RootElement;
        Assert.Equal("detection", json.GetProperty("task").GetString());
        Assert.Equal((double)hits / count, json.GetProperty("hit_rate").GetDouble(), 12);
        // Training counts its hits by decoding the raw head on the host: the same figure.
        Assert.Equal(metadata.Accuracy!.Value, json.GetProperty("hit_rate").GetDouble(), 12);
        Assert.Equal(iouSum / count, json.GetProperty("mean_iou").GetDouble(), 4);
        Assert.Equal((double)rightClass / count, json.GetProperty("class_accuracy").GetDouble(), 12);
        Assert.Contains($"class accuracy of the most confident box {100.0 * rightClass / count:F2}% ({rightClass}/{count})", stdout);
    }

    [Fact]
    public void Eval_ClassifierOptionsOnADenseCheckpoint_AreOneLine()
    {
        var localization = CliHarness.Run("eval", "--model", checkpoints.Segmenter, "--data", "shapes#0-8", "--localization", "--threads", "1");
        Assert.Equal(1, localization.ExitCode);
        Assert.Equal("nanocam: error: --localization scores a classifier's CAM boxes; this seg-fcn predicts masks itself, and eval reports their IoU", localization.Stderr.Trim());
        var topk = CliHarness.Run("eval", "--model", checkpoints.Detector, "--data", "shapes#0-8", "--topk", "3", "--threads", "1");
        Assert.Equal(1, topk.ExitCode);
        Assert.Equal("nanocam: error: --topk is for classifiers; this det-grid has a dense output", topk.Stderr.Trim());
    }

    [Theory]
    [InlineData("seg", "seg-fcn", "segmentation:K")]
    [InlineData("det", "det-grid", "box:X1,Y1,X2,Y2")]
    public void Cam_OnADenseCheckpoint_SaysWhyAndNamesTheCommandThatWorks(string which, string architecture, string target)
    {
        var (code, stdout, stderr) = CliHarness.Run("cam", "--model", which == "seg" ? checkpoints.Segmenter : checkpoints.Detector, "--image", checkpoints.Image,
            "--out", Path.Combine(checkpoints.Folder($"cam-{which}"), "cam.png"));
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"nanocam: error: cam needs a GAP → FC head (CAM weighs the last feature maps by the classifier's weights); this {architecture} has a dense output: "
            + $"use nanocam explain --method gradcam --target {target}", stderr.Trim());
    }

    [Fact]
    public void SegmentationTarget_TakesAClassName()
    {
        // The class the mask predicts most of, so that its region is not empty and the map not flat.
        var (output, metadata) = Outputs(checkpoints.Segmenter, ImageChw(), 1);
        var counts = new int[Maps];
        for (int p = 0; p < Plane; p++) counts[PixelClass(output, p)]++;
        int k = Enumerable.Range(0, Background).MaxBy(c => counts[c]);
        Assert.True(counts[k] > 0);
        string folder = checkpoints.Folder("by-name");
        float[] Map(string target, string name)
        {
            var (code, _, stderr) = CliHarness.Run("explain", "--model", checkpoints.Segmenter, "--image", checkpoints.Image, "--target", target, "--threads", "1",
                "--out", Path.Combine(folder, $"{name}.png"), "--save-map", Path.Combine(folder, $"{name}.npy"));
            Assert.True(code == 0, stderr);
            return Npy.Read(Path.Combine(folder, $"{name}.npy")).Data;
        }
        var byName = Map($"segmentation:{metadata.Classes[k]}", "name");
        var byIndex = Map($"segmentation:{k}", "index");
        Assert.Equal(byIndex, byName);
        Assert.True(byName.Max() - byName.Min() > 0.5f);
        var background = Map("segmentation:background", "background");
        Assert.Equal(Map($"segmentation:{Background}", "background-index"), background);

        var unknown = CliHarness.Run("explain", "--model", checkpoints.Segmenter, "--image", checkpoints.Image, "--target", "segmentation:blob", "--threads", "1",
            "--out", Path.Combine(folder, "blob.png"));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("nanocam: error: --target segmentation:blob: class 'blob' is not an index or one of the model's classes: circle, square, triangle, cross, star, ring, background",
            unknown.Stderr.Trim());
    }

    /// <summary>
    /// <c>explain</c> without <c>--target</c> on a dense checkpoint explains what the network predicts — the segmenter's
    /// object class with the most pixels over its predicted region, the detector's box of highest objectness with its best
    /// class — not the largest single output value, says which on its output, and saves the map that naming that target
    /// gives. The expected target is read here from the network's output by hand (argmax per pixel, counted; objectness
    /// compared row by row).
    /// </summary>
    [Theory]
    [InlineData("seg-fcn")]
    [InlineData("det-grid")]
    public void Explain_WithoutATarget_ExplainsThePredictedRegionOrTheMostConfidentBox(string architecture)
    {
        bool segmenter = architecture == "seg-fcn";
        string model = segmenter ? checkpoints.Segmenter : checkpoints.Detector;
        var (output, _) = Outputs(model, ImageChw(), 1);
        string expected, spelled;
        if (segmenter)
        {
            var pixels = new int[Maps];
            for (int p = 0; p < Plane; p++)
            {
                int best = 0;
                for (int k = 1; k < Maps; k++) if (output[k * Plane + p] > output[best * Plane + p]) best = k;
                pixels[best]++;
            }
            int cls = Background;
            for (int k = 0; k < Background; k++) if (pixels[k] > 0 && (cls == Background || pixels[k] > pixels[cls])) cls = k;
            expected = spelled = $"segmentation:{cls}";
        }
        else
        {
            int row = 0;
            for (int r = 1; r < Boxes; r++) if (output[r * BoxWidth + 4] > output[row * BoxWidth + 4]) row = r;
            var v = output.AsSpan(row * BoxWidth, BoxWidth);
            int cls = 0;
            for (int k = 1; k < BoxWidth - 5; k++) if (v[5 + k] > v[5 + cls]) cls = k;
            float x1 = v[0] - v[2] / 2, y1 = v[1] - v[3] / 2, x2 = v[0] + v[2] / 2, y2 = v[1] + v[3] / 2;
            expected = $"box:{x1},{y1},{x2},{y2},{cls}";
            spelled = FormattableString.Invariant($"box:{x1:R},{y1:R},{x2:R},{y2:R},{cls}");
        }
        string folder = checkpoints.Folder($"default-target-{architecture}");
        string[] Explain(string name, params string[] extra) =>
            ["explain", "--model", model, "--image", checkpoints.Image, "--threads", "1", "--out", Path.Combine(folder, $"{name}.png"),
                "--save-map", Path.Combine(folder, $"{name}.npy"), .. extra];
        var (code, stdout, stderr) = CliHarness.Run(Explain("default"));
        Assert.True(code == 0, stderr);
        Assert.Contains($"no --target: explaining {expected}", stdout);
        Assert.Contains(segmenter ? "the predicted class's region" : "the most confident box", stdout);
        var named = CliHarness.Run(Explain("named", "--target", spelled));
        Assert.True(named.ExitCode == 0, named.Stderr);
        var (map, _) = Npy.Read(Path.Combine(folder, "default.npy"));
        var (namedMap, _) = Npy.Read(Path.Combine(folder, "named.npy"));
        Assert.Equal(namedMap, map);
        // Not the map of the largest output value (what explain gave without a target before).
        int largest = 0;
        for (int i = 1; i < output.Length; i++) if (output[i] > output[largest]) largest = i;
        var top = CliHarness.Run(Explain("top", "--target", $"output:{largest}"));
        Assert.True(top.ExitCode == 0, top.Stderr);
        Assert.NotEqual(Npy.Read(Path.Combine(folder, "top.npy")).Item1, map);
    }
}
