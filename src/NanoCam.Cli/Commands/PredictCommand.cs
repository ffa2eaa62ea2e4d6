using System.CommandLine;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam predict</c>: top-5 classes with probabilities for one image, or for each image of an .npy batch.</summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var model = CliOptions.Path("--model", "a NanoCam checkpoint (.safetensors) or an .onnx file", PathRole.Model, required: true);
        var image = CliOptions.Path("--image", "image file", PathRole.InputFile);
        var input = CliOptions.Path("--input", "a ready float32 tensor (.npy), no preprocessing: one image C×H×W or a batch N×C×H×W", PathRole.InputFile);
        var labels = CliOptions.Path("--labels", "class names, one per line (or a JSON array), for ONNX models", PathRole.InputFile);
        var top = CliOptions.Make("--top", "how many classes to print", 5);
        var threads = CliOptions.Threads();
        var preprocessing = new Preprocessing.Options();
        var command = new Command("predict", "Classify an image: the top classes with probabilities") { model, image, input, labels, top, threads };
        preprocessing.AddTo(command);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            if ((p.GetValue(image) is null) == (p.GetValue(input) is null)) throw new ArgumentException("give exactly one of --image and --input");
            OptionChecks.AtLeast(p.GetValue(top), 1, "--top");
            var loaded = LoadedModel.Open(p.GetValue(model)!, p.GetValue(labels), preprocessing, p);
            var tensor = p.GetValue(image) is { } path ? loaded.Prepare(ImageCodec.Load(path)).Input : loaded.LoadInput(p.GetValue(input)!);
            var scores = new CamExplainer(loaded.Explainable, Backends.Create("cpu", p.GetValue(threads))).ScoresOf(tensor);
            int count = tensor.Shape[0], classes = loaded.Explainable.Classes;
            for (int n = 0; n < count; n++)
            {
                if (count > 1) Console.WriteLine($"image {n}:");
                Predictions.PrintTopK(scores.AsSpan(n * classes, classes).ToArray(), loaded.Explainable.ClassNames, p.GetValue(top));
            }
            return 0;
        }));
        return command;
    }
}
