namespace NanoCam.Onnx.Training;

/// <summary>How <see cref="GraphTrainer"/> fine-tunes an imported graph (the same knobs as <c>nanocam train</c>).</summary>
public sealed record GraphTrainingOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Images per optimizer step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>sgd (momentum 0.9) or adam.</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>The base learning rate the schedule starts from.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>constant, step or cosine (<see cref="Nn.Optim.LearningRateSchedule.Parse"/>).</summary>
    public string Schedule { get; init; } = "constant";
    /// <summary>L2 weight decay on every trained parameter.</summary>
    public float WeightDecay { get; init; }
    /// <summary>Seed of shuffling and dropout.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Prefixes of ONNX parameter names or PyTorch module paths whose parameters stay fixed; each must match one.</summary>
    public IReadOnlyList<string> Freeze { get; init; } = [];

    /// <summary>True: batch norm trains on batch statistics and updates its running ones; false: frozen running statistics.</summary>
    public bool BatchNormTrain { get; init; } = true;

    /// <summary>Per-channel normalization of the data (the data's own statistics when null; a graph checkpoint's when continuing).</summary>
    public float[]? Mean { get; init; }
    /// <summary>Per-channel standard deviation (with <see cref="Mean"/>).</summary>
    public float[]? Std { get; init; }

    /// <summary>Where the best epoch's graph checkpoint goes; null: nothing is written.</summary>
    public string? Output { get; init; }

    /// <summary>The data's spec, recorded in the checkpoint.</summary>
    public string? DataSpec { get; init; }
    /// <summary>The file the graph came from.</summary>
    public string? Init { get; init; }
}

/// <summary>One batch done: running means over the epoch so far.</summary>
public sealed record GraphBatchProgress(int Epoch, int Batch, int Batches, double Loss, double Accuracy, double ImagesPerSecond);

/// <summary>One epoch done: mean loss, training accuracy, validation accuracy (when validated), and whether it was saved.</summary>
public sealed record GraphEpochSummary(int Epoch, double Loss, double TrainAccuracy, double? ValidationAccuracy, double ImagesPerSecond, double Seconds, bool Saved);

/// <summary>Training ended early (a non-finite loss); the message says what was kept on disk.</summary>
public sealed class GraphTrainingStoppedException(string message) : InvalidOperationException(message);
