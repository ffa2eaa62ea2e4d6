using System.CommandLine;
using NanoCam.Cli.Shared;
using NanoCam.Data;
using NanoCam.Nn.Models;
using NanoCam.Nn.Training;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam train</c>: trains a GAP-CNN and writes the best epoch's checkpoint (+ its JSON description).</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var arch = CliOptions.Make("--arch", $"architecture: {string.Join(", ", Architectures.Descriptions.Keys)}", "vgg");
        var data = CliOptions.Make("--data", $"training data: {DataSpec.ValidForms}", "shapes");
        var split = CliOptions.Make("--split", "split of --data to train on (train|test)", "train");
        var validation = CliOptions.Make("--validation", "data to pick the best epoch on (same forms as --data; 'none' to skip)", "auto");
        var epochs = CliOptions.Make("--epochs", "epochs", 6);
        var batch = CliOptions.Make("--batch", "batch size", 64);
        var optimizer = CliOptions.Make("--optimizer", "sgd (momentum 0.9) or adam", "adam");
        var lr = CliOptions.Make("--lr", "base learning rate", 2e-3f);
        var schedule = CliOptions.Make("--schedule", "learning-rate schedule: constant, step, cosine", "cosine");
        var weightDecay = CliOptions.Make("--weight-decay", "L2 weight decay", 1e-4f);
        var augment = CliOptions.Make("--augment", "random crop (pad 4) and horizontal flip", false);
        var seed = CliOptions.Make("--seed", "seed for initialization, shuffling and augmentation", 1);
        var threads = CliOptions.Threads();
        var device = CliOptions.Device();
        var output = CliOptions.Path("--out", "checkpoint to write (a .json description is written beside it)", PathRole.OutputFile, "model.safetensors");
        var resume = CliOptions.Path("--resume", "continue from this checkpoint", PathRole.Checkpoint);
        var fosterCam = CliOptions.Make("--foster-cam", "CAM fostering (Schöttl 2020): add λ × the mean entropy of the true class's normalised CAM to the loss (0 = off)", 0f);
        var fosterMethod = CliOptions.Make("--foster-method", "map whose entropy is penalised: cam (the classifier's weights) or gradcam (weights α from ∂y^c/∂A, differentiated again: second order)", "cam");
        var fosterLayer = CliOptions.Make("--foster-layer", "layer A^k of the fostered map (cam: a published layer with the classifier's channel count; gradcam: any published 4-D layer)", GapCnn.FeatureLayer);
        var init = CliOptions.Path("--init", "fine-tune this imported network instead (an .onnx file, or a graph checkpoint a previous --init wrote): its float initializers are the parameters", PathRole.Model);
        var freeze = new Option<string[]>("--freeze")
        {
            Description = "with --init: keep the parameters whose ONNX name or PyTorch module path starts with this fixed (repeat, or a comma list)",
            AllowMultipleArgumentsPerToken = false, DefaultValueFactory = _ => [],
        };
        var bnMode = CliOptions.Make("--bn-mode", "with --init: train (batch statistics, running ones updated) or eval (running statistics kept)", "train");

        var command = new Command("train", "Train a GAP-CNN (conv features → global average pooling → one FC layer), the network CAM needs")
        {
            arch, data, split, validation, epochs, batch, optimizer, lr, schedule, weightDecay, augment, seed, threads, device, output, resume,
            fosterCam, fosterMethod, fosterLayer, init, freeze, bnMode,
        };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            if (p.GetValue(init) is { } initPath)
            {
                foreach (var nativeOnly in new Option[] { arch, augment, resume, fosterCam })
                    if (p.GetResult(nativeOnly) is { Implicit: false })
                        throw new ArgumentException($"{nativeOnly.Name} is for training a NanoCam architecture; --init fine-tunes the imported graph as it is");
                return GraphFineTuning.Run(initPath, new GraphFineTuning.Settings(
                    p.GetValue(data)!, p.GetValue(split)!, p.GetValue(validation)!, p.GetValue(epochs), p.GetValue(batch), p.GetValue(optimizer)!,
                    p.GetValue(lr), p.GetValue(schedule)!, p.GetValue(weightDecay), p.GetValue(seed), p.GetValue(output)!,
                    p.GetValue(freeze)!, p.GetValue(bnMode)!, p.GetValue(device)!, p.GetValue(threads)));
            }
            foreach (var graphOnly in new Option[] { freeze, bnMode })
                if (p.GetResult(graphOnly) is { Implicit: false })
                    throw new ArgumentException($"{graphOnly.Name} is for fine-tuning an imported network: give --init MODEL.onnx");
            var trainData = DataSpec.Parse(p.GetValue(data)!, p.GetValue(split)!);
            var validationSpec = p.GetValue(validation)!;
            Dataset? validationData = validationSpec switch
            {
                "none" => null,
                // auto: the test split of the embedded data set; other formats validate on nothing unless told.
                "auto" => p.GetValue(data)!.StartsWith("shapes", StringComparison.Ordinal) ? DataSpec.Parse("shapes", "test") : null,
                _ => DataSpec.Parse(validationSpec, "test"),
            };
            var plan = new TrainingPlan
            {
                Architecture = p.GetValue(arch)!, Train = trainData, Validation = validationData, DataSpec = p.GetValue(data)!,
                Epochs = p.GetValue(epochs), BatchSize = p.GetValue(batch), Optimizer = p.GetValue(optimizer)!, LearningRate = p.GetValue(lr),
                Schedule = p.GetValue(schedule)!, WeightDecay = p.GetValue(weightDecay), Augment = p.GetValue(augment), Seed = p.GetValue(seed),
                Output = p.GetValue(output)!, Resume = p.GetValue(resume),
                FosterCam = OptionChecks.NotNegative(p.GetValue(fosterCam), "--foster-cam"), FosterLayer = p.GetValue(fosterLayer)!,
                FosterMethod = ParseFosterMethod(p.GetValue(fosterMethod)!),
            };
            OptionChecks.AtLeast(plan.Epochs, 1, "--epochs");
            OptionChecks.AtLeast(plan.BatchSize, 1, "--batch");
            OptionChecks.Positive(plan.LearningRate, "--lr");
            OptionChecks.NotNegative(plan.WeightDecay, "--weight-decay");
            var kernels = Backends.Create(p.GetValue(device)!, p.GetValue(threads));
            var model = new TrainingSession(plan, kernels).Run();
            Console.WriteLine($"wrote {plan.Output} and {ModelMetadata.PathFor(plan.Output)} (epoch {model.Metadata.Epoch}, {(Architectures.IsDense(plan.Architecture) ? "images with IoU ≥ 0.5" : "accuracy")} {100 * model.Metadata.Accuracy:F2}%)");
            return 0;
        }));
        return command;
    }

    /// <summary>The fostered map: CAM (first order) or Grad-CAM (its weights are a gradient, so the loss is second order).</summary>
    private static CamFosteringMethod ParseFosterMethod(string method) => method switch
    {
        "cam" => CamFosteringMethod.Cam,
        "gradcam" => CamFosteringMethod.GradCam,
        _ => throw new ArgumentException($"--foster-method: unknown method '{method}' (known: cam, gradcam)"),
    };
}
