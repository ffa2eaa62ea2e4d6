using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Imaging;
using NanoCam.Nn.Training;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam predict</c>: the top-k classes with probabilities for one image, each image of a folder (sorted, batched
/// through the model), or each image of an .npy batch; <c>--json</c> prints one JSON object per image (JSON Lines).
/// A segmentation checkpoint (seg-fcn) prints each class's share of the predicted mask; a detector (det-grid) its
/// decoded boxes with objectness at least <c>--min-objectness</c>.
/// </summary>
public static class PredictCommand
{
    /// <summary>The image files a folder given to --image contributes, by extension (case-insensitive).</summary>
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp"];

    // Images of a folder decoded and run per pass: enough to fill a batched pass, few enough to bound memory.
    private const int ImagesPerPass = 16;

    public static Command Create()
    {
        var model = CliOptions.Model();
        var image = CliOptions.Path("--image", "an image file, or a folder: its image files in ordinal name order", PathRole.InputFileOrFolder);
        var input = CliOptions.Path("--input", "a ready float32 tensor (.npy), no preprocessing: one image C×H×W or a batch N×C×H×W", PathRole.InputFile);
        var labels = CliOptions.Path("--labels", "class names, one per line (or a JSON array), for ONNX models (default: the sidecar's, else labels.txt, imagenet_labels.txt or synset.txt beside the model)", PathRole.InputFile);
        var topk = CliOptions.Make("--topk", "how many classes to print per image", 5);
        topk.Aliases.Add("--top");
        var json = CliOptions.Make("--json", "print one JSON object per image on its own line: file, index, topk [{class, label, probability}]", false);
        var logits = CliOptions.Make("--logits", "with --json: add each image's raw class scores (before softmax) as \"logits\"", false);
        var minObjectness = CliOptions.Make("--min-objectness", "detectors (det-grid): print the boxes whose objectness is at least this, in [0, 1]", 0.5f);
        var threads = CliOptions.Threads();
        var preprocessing = new PreprocessingOptions();
        var command = new Command("predict", "Classify images: the top classes with probabilities (a segmentation network: each class's share of the predicted mask; a detector: its boxes)") { model, image, input, labels, topk, json, logits, minObjectness, threads };
        preprocessing.AddTo(command);
        command.Validators.Add(r =>
        {
            if (r.GetValue(logits) && !r.GetValue(json)) r.AddError("--logits goes with --json");
        });
        command.SetAction(p => CliRunner.Guard(() =>
        {
            OptionChecks.AtLeast(p.GetValue(topk), 1, "--topk");
            string? imagePath = p.GetValue(image), inputPath = p.GetValue(input);
            string modelPath = p.GetValue(model)!;
            bool onlySave = imagePath is null && inputPath is null && preprocessing.SavePath(p, modelPath) is not null;
            if (!onlySave && (imagePath is null) == (inputPath is null)) throw new ArgumentException("give exactly one of --image and --input");
            var loaded = LoadedModel.Open(modelPath, p.GetValue(labels), preprocessing, p);
            if (onlySave) return 0;
            var explainer = new CamExplainer(loaded.Explainable, Backends.Create("cpu", p.GetValue(threads)));
            float objectness = p.GetValue(minObjectness);
            if (!(objectness is >= 0f and <= 1f)) throw new ArgumentException($"--min-objectness {objectness.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not in [0, 1]");
            var print = new Printer(loaded.Explainable.ClassNames, loaded.Explainable.Classes, p.GetValue(topk), p.GetValue(json), p.GetValue(logits))
            {
                Dense = loaded.Explainable as DenseExplainable,
                DenseDims = loaded.Explainable.OutputDims(loaded.InputShape[1], loaded.InputShape[2], loaded.InputShape[3]),
                MinObjectness = objectness,
            };

            if (inputPath is not null)
            {
                var tensor = loaded.LoadInput(inputPath);
                var scores = explainer.ScoresOf(tensor);
                int count = tensor.Shape[0];
                for (int n = 0; n < count; n++) print.One(count > 1 ? $"image {n}" : null, inputPath, n, scores.AsSpan(n * print.Classes, print.Classes));
            }
            else if (Directory.Exists(imagePath))
            {
                var files = ImagesIn(imagePath!);
                for (int first = 0; first < files.Length; first += ImagesPerPass)
                {
                    var chunk = files.AsSpan(first, Math.Min(ImagesPerPass, files.Length - first)).ToArray();
                    var scores = explainer.ScoresOf(Stack(chunk.Select(f => loaded.Prepare(ImageCodec.Load(f)).Input).ToArray()));
                    for (int n = 0; n < chunk.Length; n++) print.One(chunk[n], chunk[n], first + n, scores.AsSpan(n * print.Classes, print.Classes));
                }
            }
            else
            {
                var scores = explainer.ScoresOf(loaded.Prepare(ImageCodec.Load(imagePath!)).Input);
                print.One(null, imagePath!, 0, scores);
            }
            if (loaded.Note(fromImages: inputPath is null) is { } note) Console.Error.WriteLine($"nanocam: note: {note}");
            return 0;
        }));
        return command;
    }

    /// <summary>The image files directly inside <paramref name="folder"/>, in ordinal order of their paths.</summary>
    public static string[] ImagesIn(string folder)
    {
        var files = Directory.EnumerateFiles(folder).Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToArray();
        return files.Length > 0 ? files
            : throw new ArgumentException($"folder '{folder}' holds no image files ({string.Join(", ", ImageExtensions)})");
    }

    /// <summary>[1, C, H, W] tensors of the same shape as one [N, C, H, W] batch.</summary>
    private static Tensor Stack(Tensor[] images)
    {
        var batch = Tensor.Zeros([images.Length, .. images[0].Shape.ToArray()[1..]]);
        int size = images[0].Size;
        for (int n = 0; n < images.Length; n++) images[n].Span.CopyTo(batch.Span.Slice(n * size, size));
        return batch;
    }

    /// <summary>Writes one image's result: the human table, or one JSON line.</summary>
    private sealed class Printer(IReadOnlyList<string>? names, int classes, int k, bool json, bool logits)
    {
        private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        public int Classes { get; } = classes;

        /// <summary>A dense network (seg-fcn, det-grid): its output is read as masks or boxes, not class scores.</summary>
        public DenseExplainable? Dense { get; init; }

        /// <summary>One image's output shape, [K + 1, H, W] or [boxes, 4 + 1 + K], for <see cref="Dense"/>.</summary>
        public int[] DenseDims { get; init; } = [];

        /// <summary>The least objectness of a printed box.</summary>
        public float MinObjectness { get; init; }

        /// <summary><paramref name="heading"/> titles the table when several images are printed; <paramref name="file"/> and <paramref name="index"/> go into the JSON.</summary>
        public void One(string? heading, string file, int index, ReadOnlySpan<float> scores)
        {
            if (!json)
            {
                if (heading is not null) Console.WriteLine($"{heading}:");
                if (Dense is null) Predictions.PrintTopK(scores, names, k);
                else if (DenseDims.Length == 3) PrintMask(scores);
                else PrintBoxes(scores);
                return;
            }
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, Options))
            {
                writer.WriteStartObject();
                writer.WriteString("file", file);
                writer.WriteNumber("index", index);
                if (Dense is not null)
                {
                    if (DenseDims.Length == 3) WriteMask(writer, scores);
                    else WriteBoxes(writer, scores);
                }
                else
                {
                    writer.WriteStartArray("topk");
                    foreach (var (cls, probability) in Predictions.TopK(scores, k))
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("class", cls);
                        if (names is not null && cls < names.Count) writer.WriteString("label", names[cls]);
                        else writer.WriteNull("label");
                        writer.WritePropertyName("probability");
                        WriteFinite(writer, probability);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                }
                if (logits)
                {
                    writer.WriteStartArray("logits");
                    foreach (var v in scores) WriteFinite(writer, v);
                    writer.WriteEndArray();
                }
                writer.WriteEndObject();
            }
            Console.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        }

        private string? DenseName(int cls) => Dense?.OutputClassNames is { } n && (uint)cls < (uint)n.Count ? n[cls] : null;

        /// <summary>Each class's pixels of the predicted mask (per-pixel argmax) and their share of the image.</summary>
        private (int[] Counts, int Plane, int MaskClass) Mask(ReadOnlySpan<float> scores)
        {
            int plane = DenseDims[1] * DenseDims[2];
            var counts = DensePrediction.PixelCounts(scores, DenseDims[0], plane);
            return (counts, plane, DensePrediction.MaskClass(counts, DenseDims[0] - 1));
        }

        private void PrintMask(ReadOnlySpan<float> scores)
        {
            var (counts, plane, maskClass) = Mask(scores);
            Console.WriteLine($"  predicted mask: {DenseName(maskClass) ?? maskClass.ToString()} ({counts[maskClass]} of {plane} pixels); each class's share of the pixels:");
            for (int c = 0; c < counts.Length; c++)
                Console.WriteLine($"  {c,5}  {(double)counts[c] / plane,8:P2}  {counts[c],7} px  {DenseName(c)}");
        }

        private void WriteMask(Utf8JsonWriter writer, ReadOnlySpan<float> scores)
        {
            var (counts, plane, maskClass) = Mask(scores);
            writer.WriteNumber("pixels", plane);
            writer.WriteNumber("mask_class", maskClass);
            WriteLabel(writer, "mask_label", DenseName(maskClass));
            writer.WriteStartArray("segmentation");
            for (int c = 0; c < counts.Length; c++)
            {
                writer.WriteStartObject();
                writer.WriteNumber("class", c);
                WriteLabel(writer, "label", DenseName(c));
                writer.WriteNumber("pixels", counts[c]);
                writer.WriteNumber("share", (double)counts[c] / plane);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }

        private void PrintBoxes(ReadOnlySpan<float> scores)
        {
            var boxes = DensePrediction.Boxes(scores, DenseDims[0], DenseDims[1], MinObjectness);
            if (boxes.Count == 0)
            {
                float highest = 0f;
                for (int i = 0; i < DenseDims[0]; i++) highest = MathF.Max(highest, scores[i * DenseDims[1] + 4]);
                Console.WriteLine($"  no box of {DenseDims[0]} has objectness ≥ {MinObjectness:0.###} (the highest is {highest:0.####})");
                return;
            }
            Console.WriteLine($"  {boxes.Count} of {DenseDims[0]} boxes with objectness ≥ {MinObjectness:0.###} (x1, y1, x2, y2 in input pixels; score = objectness × class probability):");
            foreach (var d in boxes)
                Console.WriteLine(FormattableString.Invariant($"  {d.Class,5}  score {d.Score:0.0000}  objectness {d.Objectness:0.0000}  box {d.Box.X1:0.0},{d.Box.Y1:0.0},{d.Box.X2:0.0},{d.Box.Y2:0.0}  {DenseName(d.Class)}"));
        }

        private void WriteBoxes(Utf8JsonWriter writer, ReadOnlySpan<float> scores)
        {
            writer.WriteNumber("min_objectness", MinObjectness);
            writer.WriteStartArray("boxes");
            foreach (var d in DensePrediction.Boxes(scores, DenseDims[0], DenseDims[1], MinObjectness))
            {
                writer.WriteStartObject();
                writer.WriteNumber("x1", d.Box.X1);
                writer.WriteNumber("y1", d.Box.Y1);
                writer.WriteNumber("x2", d.Box.X2);
                writer.WriteNumber("y2", d.Box.Y2);
                writer.WriteNumber("objectness", d.Objectness);
                writer.WriteNumber("class", d.Class);
                WriteLabel(writer, "label", DenseName(d.Class));
                writer.WriteNumber("class_score", d.ClassScore);
                writer.WriteNumber("score", d.Score);
                writer.WriteNumber("row", d.Row);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }

        private static void WriteLabel(Utf8JsonWriter writer, string key, string? label)
        {
            if (label is null) writer.WriteNull(key);
            else writer.WriteString(key, label);
        }

        /// <summary>JSON has no NaN or infinity: such a value is written as null.</summary>
        private static void WriteFinite(Utf8JsonWriter writer, float value)
        {
            if (float.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
