using System.Diagnostics;
using NanoCam.Data;
using NanoCam.Nn.Models;
using NanoCam.Nn.Optim;
using NanoCam.Nn.Training;
using Spectre.Console;

namespace NanoCam.Cli.Shared;

/// <summary>Everything <c>nanocam train</c> (and the demo) needs to know to train one model.</summary>
public sealed record TrainingPlan
{
    public required string Architecture { get; init; }
    public required Dataset Train { get; init; }
    public Dataset? Validation { get; init; }
    public required string DataSpec { get; init; }
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 64;
    public string Optimizer { get; init; } = "adam";
    public float LearningRate { get; init; } = 2e-3f;
    public string Schedule { get; init; } = "cosine";
    public float WeightDecay { get; init; } = 1e-4f;
    public int Seed { get; init; } = 1;
    public bool Augment { get; init; }
    public required string Output { get; init; }
    public string? Resume { get; init; }
    /// <summary>λ of CAM fostering (0: plain cross-entropy).</summary>
    public float FosterCam { get; init; }
    public string FosterLayer { get; init; } = GapCnn.FeatureLayer;
    /// <summary>Which map CAM fostering penalises: CAM (first order) or Grad-CAM (second order).</summary>
    public CamFosteringMethod FosterMethod { get; init; } = CamFosteringMethod.Cam;
}

/// <summary>One row of the summary table.</summary>
public sealed record EpochSummary(int Epoch, double Loss, double TrainAccuracy, double? ValidationAccuracy, double ImagesPerSecond, double Seconds, bool Saved, double? MeanCamEntropy = null);

/// <summary>
/// The training loop: epochs of shuffled batches through <see cref="TrainingStep"/>, a progress bar with loss,
/// accuracy, images/s and ETA, validation after each epoch, and the best epoch's checkpoint written atomically.
/// On NaN it stops cleanly and the last good checkpoint stays on disk. A dense-output network (seg-fcn, det-grid) learns
/// from the masks of the shapes data through its <see cref="DenseObjective"/>, and its "accuracy" is the share of images
/// whose prediction has IoU ≥ 0.5 with the truth.
/// </summary>
public sealed class TrainingSession(TrainingPlan plan, IKernels kernels)
{
    public List<EpochSummary> History { get; } = [];

    /// <summary>Trains and returns the best model (by validation accuracy, or the last epoch without validation).</summary>
    public TrainedModel Run()
    {
        var train = plan.Train;
        Architectures.CheckInputSize(plan.Architecture, train.Height, train.Width);
        var (mean, std) = DatasetStatistics.MeanStd(train);
        var network = Architectures.CreateNetwork(plan.Architecture, train.Channels, train.ClassNames.Count, plan.Seed);
        bool dense = network is IDenseModel;
        if (dense && plan.Augment)
            throw new ArgumentException($"--augment: --arch {plan.Architecture} learns from the masks, which crops and flips would move away from their images");
        var masks = dense ? MasksOf(train) ?? throw new ArgumentException($"--arch {plan.Architecture} learns from object masks; {train.Description} has none (the shapes data set has them: --data shapes)") : null;
        var metadata = new ModelMetadata
        {
            Architecture = plan.Architecture, InputChannels = train.Channels, InputHeight = train.Height, InputWidth = train.Width,
            Classes = train.ClassNames.ToArray(), Mean = mean, Std = std, Data = plan.DataSpec, Seed = plan.Seed,
            FosterCam = plan.FosterCam > 0 ? plan.FosterCam : null,
        };
        int firstEpoch = 0;
        if (plan.Resume is { } resume)
        {
            var previous = TrainedModel.Load(resume);
            if (previous.Metadata.Architecture != plan.Architecture)
                throw new ArgumentException($"--resume: checkpoint '{resume}' is a {previous.Metadata.Architecture}, not a {plan.Architecture}");
            Nn.Checkpoints.Checkpoint.Load(network, resume);
            metadata = metadata with { Mean = previous.Metadata.Mean, Std = previous.Metadata.Std };
            firstEpoch = previous.Metadata.Epoch;
        }

        network.MoveTo(kernels); // the parameters live where the kernels run (a no-op on the CPU)
        var loader = new DataLoader(train, plan.BatchSize, new DataLoaderOptions
        {
            Seed = plan.Seed, Mean = metadata.Mean, Std = metadata.Std, DropLast = train.Count > plan.BatchSize,
            CropPadding = plan.Augment ? 4 : 0, HorizontalFlip = plan.Augment,
        });
        Optimizer optimizer = plan.Optimizer switch
        {
            "sgd" => new Sgd(kernels, network.TrainableParameters(), plan.LearningRate, 0.9f, plan.WeightDecay),
            "adam" => new Adam(kernels, network.TrainableParameters(), plan.LearningRate, weightDecay: plan.WeightDecay),
            _ => throw new ArgumentException($"unknown optimizer '{plan.Optimizer}' (known: sgd, adam)"),
        };
        var schedule = LearningRateSchedule.Parse(plan.Schedule, plan.LearningRate, plan.Epochs);
        var fostering = plan.FosterCam > 0
            ? new CamFostering(network as GapCnn ?? throw new ArgumentException($"--foster-cam is for classifiers; --arch {plan.Architecture} has a dense output"), plan.FosterCam, plan.FosterLayer, plan.FosterMethod)
            : null;
        if (fostering is not null)
        {
            // A dry pass on one blank image checks --foster-layer before any training; for Grad-CAM it also records the
            // taped gradient, so that an operation without a second-order rule is named now rather than at step 1.
            bool gradCam = plan.FosterMethod == CamFosteringMethod.GradCam;
            var probe = new NanoCam.Autodiff.Tape(kernels) { GradEnabled = gradCam, Training = gradCam };
            probe.Keep(plan.FosterLayer);
            var probeLogits = network.Call(probe, kernels.Stage(Tensor.Zeros(1, train.Channels, train.Height, train.Width)));
            fostering.FeaturesOn(probe);
            if (gradCam)
            {
                try
                {
                    fostering.MeanEntropy(probe, kernels.Stage(Tensor.Zeros(1)), probeLogits);
                }
                catch (NotSupportedException e)
                {
                    throw new ArgumentException($"--foster-method gradcam at layer '{plan.FosterLayer}': {e.Message}");
                }
            }
        }
        var objective = masks is null ? null : DenseObjective.For(network, masks, train.Height, train.Width);
        var step = new TrainingStep(network, optimizer, kernels, (ulong)plan.Seed, fostering, objective);
        TrainedModel? best = null;
        double bestAccuracy = double.NegativeInfinity;

        Console.WriteLine($"training {plan.Architecture} ({network.ParameterCount:N0} parameters) on {train.Description}, {plan.Epochs} epochs of {loader.BatchCount} batches, {kernels.Name} kernels");
        for (int epoch = firstEpoch; epoch < firstEpoch + plan.Epochs; epoch++)
        {
            double lossSum = 0, entropySum = 0;
            int seen = 0, correct = 0;
            var clock = Stopwatch.StartNew();
            try
            {
                AnsiConsole.Progress()
                    .AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"epoch {epoch + 1}", maxValue: loader.BatchCount);
                        int b = 0;
                        foreach (var batch in loader.Epoch(epoch))
                        {
                            optimizer.LearningRate = schedule.At(epoch - firstEpoch + (double)b++ / loader.BatchCount);
                            var (loss, right) = objective is null ? step.Run(batch.Images, batch.Labels) : step.Run(batch.Images, batch.Labels, batch.Indices);
                            lossSum += loss * batch.Count;
                            entropySum += step.LastMeanEntropy * batch.Count;
                            correct += right;
                            seen += batch.Count;
                            task.Description = $"epoch {epoch + 1}  loss {lossSum / seen:F4}  acc {100.0 * correct / seen:F1}%  {seen / clock.Elapsed.TotalSeconds:F0} img/s";
                            task.Increment(1);
                        }
                    });
            }
            catch (TrainingDivergedException e)
            {
                var kept = best is null ? "no checkpoint was written (no epoch finished)" : $"the last good checkpoint {plan.Output} (epoch {best.Metadata.Epoch}) is kept";
                throw new TrainingStoppedException($"training stopped: {e.Message} in epoch {epoch + 1}; {kept}");
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double? validation = null;
            if (plan.Validation is { } validationData)
                validation = dense ? DenseHitRate(network, metadata, validationData, kernels) : Evaluation.Run((GapCnn)network, metadata, validationData, kernels, localization: false).Accuracy;
            double score = validation ?? (double)correct / seen;
            bool saved = score >= bestAccuracy;
            if (saved)
            {
                bestAccuracy = score;
                best = new TrainedModel(network, metadata with { Epoch = epoch + 1, Accuracy = validation ?? (double)correct / seen });
                best.Save(plan.Output);
            }
            double? entropy = fostering is null ? null : entropySum / seen;
            var summary = new EpochSummary(epoch + 1, lossSum / seen, (double)correct / seen, validation, seen / seconds, seconds, saved, entropy);
            History.Add(summary);
            Console.WriteLine($"epoch {summary.Epoch,3}  loss {summary.Loss:F4}  train {100 * summary.TrainAccuracy:F2}%" +
                (entropy is { } h ? $"  CAM entropy {h:F3}" : "") +
                (validation is { } v ? $"  validation {100 * v:F2}%" : "") + $"  {summary.ImagesPerSecond:F0} img/s  {seconds:F1} s{(saved ? "  saved" : "")}");
        }
        PrintSummary();
        // The best epoch's weights are on disk; reload them so the caller evaluates what was saved.
        return TrainedModel.Load(plan.Output);
    }

    /// <summary>The object masks of a data set that has them (the shapes data, or a range of it), else null.</summary>
    public static MaskSource? MasksOf(Dataset data) => data switch
    {
        ShapesDataset shapes => shapes.GetMask,
        RangeDataset { Inner: var inner } range when MasksOf(inner) is { } masks => (index, coverage) => masks(range.Start + index, coverage),
        _ => null,
    };

    /// <summary>The share of <paramref name="data"/>'s images a dense-output network gets right (IoU ≥ 0.5 with the truth), in evaluation mode.</summary>
    private static double DenseHitRate(Nn.Modules.Module network, ModelMetadata metadata, Dataset data, IKernels kernels)
    {
        var masks = MasksOf(data) ?? throw new ArgumentException($"validation: {data.Description} has no object masks");
        var objective = DenseObjective.For(network, masks, data.Height, data.Width)!;
        var loader = new DataLoader(data, 64, DataLoaderOptions.Evaluation with { Mean = metadata.Mean, Std = metadata.Std });
        var tape = new NanoCam.Autodiff.Tape(kernels) { GradEnabled = false };
        Tensor? staged = null;
        int hits = 0;
        foreach (var batch in loader.Epoch(0))
        {
            tape.Reset();
            Span<float> labels = new float[batch.Count];
            batch.Labels.Buffer.CopyTo(labels);
            hits += objective.Loss(tape, kernels.Stage(batch.Images, ref staged), labels, batch.Indices).Hits;
        }
        return (double)hits / data.Count;
    }

    private void PrintSummary()
    {
        var table = new Table().AddColumns("epoch", "loss", "train acc", "validation acc", "img/s", "seconds", "checkpoint");
        foreach (var h in History)
            table.AddRow($"{h.Epoch}", $"{h.Loss:F4}", $"{100 * h.TrainAccuracy:F2}%", h.ValidationAccuracy is { } v ? $"{100 * v:F2}%" : "-",
                $"{h.ImagesPerSecond:F0}", $"{h.Seconds:F1}", h.Saved ? "saved" : "");
        AnsiConsole.Write(table);
    }
}

/// <summary>Training ended early (NaN loss); the message says what was kept.</summary>
public sealed class TrainingStoppedException(string message) : InvalidOperationException(message);
