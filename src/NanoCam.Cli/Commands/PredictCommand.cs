using System.CommandLine;
using NanoCam.Cli.Shared;
using NanoCam.Explain;
using NanoCam.Imaging;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam predict</c>: top-5 classes with probabilities for one image.</summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var model = CliOptions.Required<string>("--model", "a NanoCam checkpoint (.safetensors) or an .onnx file");
        var image = CliOptions.Required<string>("--image", "image file");
        var labels = CliOptions.Make<string?>("--labels", "class names, one per line (or a JSON array), for ONNX models", null);
        var top = CliOptions.Make("--top", "how many classes to print", 5);
        var threads = CliOptions.Threads();
        var preprocessing = new Preprocessing.Options();
        var command = new Command("predict", "Classify an image: the top classes with probabilities") { model, image, labels, top, threads };
        preprocessing.AddTo(command);
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var loaded = LoadedModel.Open(p.GetValue(model)!, p.GetValue(labels), preprocessing, p);
            var (input, _) = loaded.Prepare(ImageCodec.Load(p.GetValue(image)!));
            var scores = new CamExplainer(loaded.Explainable, Backends.Create("cpu", p.GetValue(threads))).ScoresOf(input);
            Predictions.PrintTopK(scores, loaded.Explainable.ClassNames, p.GetValue(top));
            return 0;
        }));
        return command;
    }
}
