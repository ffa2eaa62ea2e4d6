using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary>
/// <c>nanocam predict</c>: the top-k classes with probabilities for one image, each image of a folder (sorted, batched
/// through the model), or each image of an .npy batch; <c>--json</c> prints one JSON object per image (JSON Lines).
/// </summary>
public static class PredictCommand
{
    /// <summary>The image files a folder given to --image contributes, by extension (case-insensitive).</summary>
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp"];

    // Images of a folder decoded and run per pass: enough to fill a batched pass, few enough to bound memory.
    private const int ImagesPerPass = 16;

    public static Command Create()
    {
        var model = CliOptions.Path("--model", "a NanoCam checkpoint (.safetensors) or an .onnx file", PathRole.Model, required: true);
        var image = CliOptions.Path("--image", "an image file, or a folder: its image files in ordinal name order", PathRole.InputFileOrFolder);
        var input = CliOptions.Path("--input", "a ready float32 tensor (.npy), no preprocessing: one image C×H×W or a batch N×C×H×W", PathRole.InputFile);
        var labels = CliOptions.Path("--labels", "class names, one per line (or a JSON array), for ONNX models (default: the sidecar's, else labels.txt, imagenet_labels.txt or synset.txt beside the model)", PathRole.InputFile);
        var topk = CliOptions.Make("--topk", "how many classes to print per image", 5);
        topk.Aliases.Add("--top");
        var json = CliOptions.Make("--json", "print one JSON object per image on its own line: file, index, topk [{class, label, probability}]", false);
        var logits = CliOptions.Make("--logits", "with --json: add each image's raw class scores (before softmax) as \"logits\"", false);
        var threads = CliOptions.Threads();
        var preprocessing = new PreprocessingOptions();
        var command = new Command("predict", "Classify images: the top classes with probabilities") { model, image, input, labels, topk, json, logits, threads };
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
            var print = new Printer(loaded.Explainable.ClassNames, loaded.Explainable.Classes, p.GetValue(topk), p.GetValue(json), p.GetValue(logits));

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

        /// <summary><paramref name="heading"/> titles the table when several images are printed; <paramref name="file"/> and <paramref name="index"/> go into the JSON.</summary>
        public void One(string? heading, string file, int index, ReadOnlySpan<float> scores)
        {
            if (!json)
            {
                if (heading is not null) Console.WriteLine($"{heading}:");
                Predictions.PrintTopK(scores, names, k);
                return;
            }
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, Options))
            {
                writer.WriteStartObject();
                writer.WriteString("file", file);
                writer.WriteNumber("index", index);
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

        /// <summary>JSON has no NaN or infinity: such a value is written as null.</summary>
        private static void WriteFinite(Utf8JsonWriter writer, float value)
        {
            if (float.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
