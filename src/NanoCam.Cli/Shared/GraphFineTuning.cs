using NanoCam.Data;
using NanoCam.Onnx;
using NanoCam.Onnx.Training;

namespace NanoCam.Cli.Shared;

/// <summary><c>nanocam train --init MODEL</c>: fine-tunes an imported graph with <see cref="GraphTrainer"/> and writes a graph checkpoint.</summary>
public static class GraphFineTuning
{
    /// <summary>The train options that apply to an imported graph, as given.</summary>
    public sealed record Settings(string Data, string Split, string Validation, int Epochs, int Batch, string Optimizer, float LearningRate,
        string Schedule, float WeightDecay, int Seed, string Output, string[] Freeze, string BatchNormMode, string Device, int Threads);

    /// <summary>Checks the settings, fine-tunes the graph at <paramref name="initPath"/>, prints each epoch and the file written; the exit code.</summary>
    public static int Run(string initPath, Settings s)
    {
        OptionChecks.AtLeast(s.Epochs, 1, "--epochs");
        OptionChecks.AtLeast(s.Batch, 1, "--batch");
        OptionChecks.Positive(s.LearningRate, "--lr");
        OptionChecks.NotNegative(s.WeightDecay, "--weight-decay");
        bool bnTrain = s.BatchNormMode switch
        {
            "train" => true,
            "eval" => false,
            _ => throw new ArgumentException($"--bn-mode must be train or eval, got '{s.BatchNormMode}'"),
        };
        if (s.Device != "cpu") throw new ArgumentException($"--device {s.Device}: fine-tuning an imported graph (--init) runs on the CPU");
        var train = DataSpec.Parse(s.Data, s.Split);
        Dataset? validation = s.Validation switch
        {
            "none" => null,
            "auto" => s.Data.StartsWith("shapes", StringComparison.Ordinal) ? DataSpec.Parse("shapes", "test") : null,
            _ => DataSpec.Parse(s.Validation, "test"),
        };
        OnnxModel model;
        float[]? mean = null, std = null;
        if (GraphCheckpoint.IsGraphCheckpoint(initPath))
        {
            // Continuing: the graph keeps the normalization it was trained with.
            var (loaded, info) = GraphCheckpoint.Load(initPath);
            (model, mean, std) = (loaded, info.Mean, info.Std);
        }
        else if (initPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) model = OnnxModel.Load(initPath);
        else throw new ArgumentException($"--init '{initPath}' is a NanoCam checkpoint; --init takes an .onnx graph or a graph checkpoint (continue a NanoCam checkpoint with --resume)");

        var prefixes = s.Freeze.SelectMany(f => f.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (s.Freeze.Length > 0 && prefixes.Count == 0) throw new ArgumentException("--freeze: give a prefix (an ONNX parameter name or PyTorch module path)");
        var threads = s.Threads > 0 ? s.Threads : Environment.ProcessorCount;
        var trainer = new GraphTrainer(model, train, new GraphTrainingOptions
        {
            Epochs = s.Epochs, BatchSize = s.Batch, Optimizer = s.Optimizer, LearningRate = s.LearningRate, Schedule = s.Schedule,
            WeightDecay = s.WeightDecay, Seed = s.Seed, Freeze = prefixes, BatchNormTrain = bnTrain, Mean = mean, Std = std,
            Output = s.Output, DataSpec = s.Data, Init = initPath,
        }, Backends.Create(s.Device, s.Threads));
        long trainable = trainer.Trainable.Sum(n => (long)model.Parameters[n].Size);
        Console.WriteLine($"fine-tuning {Path.GetFileName(initPath)} ({trainer.Trainable.Count} parameter tensors, {trainable:N0} values trained; "
            + $"{trainer.Frozen.Count} frozen; batch norm {s.BatchNormMode}) on {train.Description}, {s.Epochs} epochs, {threads} threads");
        var history = trainer.Run(validation, epochs: new Immediate<GraphEpochSummary>(e => Console.WriteLine(
            $"epoch {e.Epoch,3}  loss {e.Loss:F4}  train {100 * e.TrainAccuracy:F2}%" + (e.ValidationAccuracy is { } v ? $"  validation {100 * v:F2}%" : "")
            + $"  {e.ImagesPerSecond:F0} img/s  {e.Seconds:F1} s{(e.Saved ? "  saved" : "")}")));
        var best = history.Where(h => h.Saved).Last();
        Console.WriteLine($"wrote {s.Output} (epoch {best.Epoch}, accuracy {100 * (best.ValidationAccuracy ?? best.TrainAccuracy):F2}%); 'nanocam export --model {s.Output} --out MODEL.onnx' writes it as ONNX");
        return 0;
    }

    /// <summary>Reports on the caller's thread, in order (<see cref="Progress{T}"/> would post them to the thread pool).</summary>
    private sealed class Immediate<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
