using System.Diagnostics;
using NanoCam.Autodiff;
using NanoCam.Data;
using NanoCam.Nn.Modules;
using NanoCam.Nn.Optim;
using NanoCam.Nn.Training;
using NanoCam.Ops;

namespace NanoCam.Onnx.Training;

/// <summary>
/// Fine-tunes an imported graph on a data set: its float initializers are the parameters (minus batch norm's running
/// statistics and the frozen ones), the class scores (<see cref="OnnxModel.Scores"/>) feed a mean cross-entropy, the
/// tape differentiates through every operator, and an optimizer steps. Images with one channel feed a three-channel
/// graph replicated (gray → R = G = B); a graph that declares a fixed height and width takes only data of that size
/// (nothing is resized). Runs on kernels whose tensors live on the host (the parameters are updated where they are).
/// </summary>
public sealed class GraphTrainer
{
    private readonly OnnxModel _model;
    private readonly Dataset _train;
    private readonly GraphTrainingOptions _options;
    private readonly IKernels _kernels;
    private readonly Tape _tape;
    private readonly Optimizer _optimizer;
    private readonly int _modelChannels;
    private readonly float[] _mean, _std;
    private float[] _replicated = [], _logits = [];

    /// <summary>Checks the graph against the data and resolves the frozen parameters; every refusal is one line.</summary>
    public GraphTrainer(OnnxModel model, Dataset train, GraphTrainingOptions options, IKernels kernels)
    {
        if (!kernels.AllocatesOnHost()) throw new NotSupportedException("fine-tuning an imported graph runs on the CPU (--device cpu): its parameters are updated where they live");
        if (model.Inputs.Count != 1) throw new ArgumentException($"{model.Source} has {model.Inputs.Count} inputs; fine-tuning takes a graph with one image input");
        _model = model;
        _train = train;
        _options = options;
        _kernels = kernels;
        var declared = model.Inputs[0].Dims;
        if (declared.Count != 4) throw new ArgumentException($"{model.Source}: the input {model.Inputs[0]} is not an image batch [N, C, H, W]");
        _modelChannels = declared[1] > 0 ? declared[1] : train.Channels;
        if (_modelChannels != train.Channels && !(train.Channels == 1 && _modelChannels == 3))
            throw new ArgumentException($"{model.Source} takes {_modelChannels}-channel images but {train.Description} has {train.Channels}");
        if (declared[2] > 0 && declared[2] != train.Height || declared[3] > 0 && declared[3] != train.Width)
            throw new ArgumentException($"{model.Source} takes {declared[2]}×{declared[3]} images but {train.Description} is {train.Height}×{train.Width}; NanoCam does not resize training data (export the graph with dynamic height and width, or give data of that size)");
        if (!model.Batch.Independent && declared[0] > 0 && declared[0] != options.BatchSize)
            throw new ArgumentException($"{model.Source} runs batches of exactly {declared[0]} ({model.Batch.Reason}); use a batch size of {declared[0]}");
        int classes = ClassCount();
        if (classes != train.ClassNames.Count)
            throw new ArgumentException($"{model.Source} scores {classes} classes but {train.Description} has {train.ClassNames.Count} ({string.Join(", ", train.ClassNames.Take(6))}{(train.ClassNames.Count > 6 ? ", …" : "")}); give the graph a head with {train.ClassNames.Count} outputs");

        var (mean, std) = options.Mean is { } m && options.Std is { } s ? (m, s) : DatasetStatistics.MeanStd(train);
        if (mean.Length != train.Channels && mean.Length == _modelChannels) (mean, std) = (mean[..train.Channels], std[..train.Channels]);
        (_mean, _std) = (mean, std);

        RunningStatistics = model.Nodes.Where(n => n.OpType == "BatchNormalization").SelectMany(n => n.Inputs.Skip(3).Take(2)).Where(model.Parameters.ContainsKey).ToHashSet();
        var frozen = GraphFreezing.Resolve(model, options.Freeze);
        Frozen = frozen;
        Trainable = model.Parameters.Keys.Where(k => !frozen.Contains(k) && !RunningStatistics.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        foreach (var p in model.Parameters.Values) p.RequiresGrad = false;
        var parameters = Trainable.Select(name => Parameter.Wrap(name, model.Parameters[name])).ToList();
        model.BatchStatisticsInTraining = options.BatchNormTrain;
        model.ParametersChanged();
        _optimizer = options.Optimizer switch
        {
            "sgd" => new Sgd(kernels, parameters, options.LearningRate, 0.9f, options.WeightDecay),
            "adam" => new Adam(kernels, parameters, options.LearningRate, weightDecay: options.WeightDecay),
            _ => throw new ArgumentException($"unknown optimizer '{options.Optimizer}' (known: sgd, adam)"),
        };
        _tape = new Tape(kernels) { Seed = (ulong)options.Seed, Training = true };
    }

    /// <summary>The parameters the optimizer updates, by ONNX name.</summary>
    public IReadOnlyList<string> Trainable { get; }

    /// <summary>The parameters kept fixed by the freeze prefixes.</summary>
    public IReadOnlySet<string> Frozen { get; }

    /// <summary>Batch norm's running means and variances: never stepped; updated by the batches in train mode.</summary>
    public IReadOnlySet<string> RunningStatistics { get; }

    /// <summary>The normalization the data gets, one value per data channel.</summary>
    public IReadOnlyList<float> Mean => _mean;
    /// <summary>The standard deviation the data is divided by, one value per data channel.</summary>
    public IReadOnlyList<float> Std => _std;

    /// <summary>How many classes the graph scores, read from its folded shapes at the data's image size.</summary>
    private int ClassCount()
    {
        var scores = _model.OutputBeforeSoftmax ?? _model.OutputNames[0];
        var plan = _model.ShapePlan([1, _modelChannels, _train.Height, _train.Width]);
        if (!plan.Dims.TryGetValue(scores, out var dims) || dims.Length < 2)
            throw new ArgumentException($"{_model.Source}: its output '{scores}' is not a batch of class scores");
        return dims.Skip(1).Aggregate(1, (a, d) => a * d);
    }

    /// <summary>The description stored with a checkpoint of this run after <paramref name="epoch"/> epochs.</summary>
    public GraphTrainingInfo Info(int epoch, double? accuracy) => new()
    {
        Classes = [.. _train.ClassNames], InputChannels = _modelChannels, InputHeight = _train.Height, InputWidth = _train.Width,
        Mean = Replicate(_mean), Std = Replicate(_std), Data = _options.DataSpec, Epoch = epoch, Accuracy = accuracy,
        BatchNormMode = _options.BatchNormTrain ? "train" : "eval", Init = _options.Init,
    };

    private float[] Replicate(float[] perDataChannel) => perDataChannel.Length == _modelChannels ? perDataChannel : Enumerable.Repeat(perDataChannel[0], _modelChannels).ToArray();

    /// <summary>One optimizer step on a normalized batch [N, C, H, W] with labels [N]; returns the mean loss and the right predictions.</summary>
    public (float Loss, int Correct) Step(Tensor images, Tensor labels)
    {
        _tape.Reset();
        var logits = _model.Scores(_tape, Adapt(images));
        var loss = _tape.CrossEntropy(logits, labels);
        float value = loss.ToArray()[0];
        if (!float.IsFinite(value)) throw new TrainingDivergedException($"the loss became {value} at optimizer step {_optimizer.StepCount + 1}");
        _tape.Backward(loss);
        _optimizer.Step();
        _optimizer.ZeroGrad();
        _model.ParametersChanged();
        return (value, CountCorrect(logits, labels));
    }

    /// <summary>Sets the learning rate (the schedule does this per batch in <see cref="Run"/>).</summary>
    public float LearningRate { get => _optimizer.LearningRate; set => _optimizer.LearningRate = value; }

    /// <summary>The optimizer steps taken so far.</summary>
    public int Steps => _optimizer.StepCount;

    /// <summary>
    /// Trains for the options' epochs; after each, validates (when <paramref name="validation"/> is given) and writes the
    /// best epoch's checkpoint (by validation accuracy, else training accuracy) to the options' output. A non-finite loss
    /// stops the run with <see cref="GraphTrainingStoppedException"/>, the last good checkpoint kept.
    /// </summary>
    public IReadOnlyList<GraphEpochSummary> Run(Dataset? validation = null, IProgress<GraphBatchProgress>? batches = null, IProgress<GraphEpochSummary>? epochs = null)
    {
        var loader = new DataLoader(_train, _options.BatchSize, new DataLoaderOptions
        {
            Seed = _options.Seed, Mean = _mean, Std = _std, DropLast = _train.Count > _options.BatchSize || !_model.Batch.Independent,
        });
        var schedule = LearningRateSchedule.Parse(_options.Schedule, _options.LearningRate, _options.Epochs);
        var history = new List<GraphEpochSummary>();
        double best = double.NegativeInfinity;
        int? savedEpoch = null;
        for (int epoch = 0; epoch < _options.Epochs; epoch++)
        {
            double lossSum = 0;
            int seen = 0, correct = 0, b = 0;
            var clock = Stopwatch.StartNew();
            try
            {
                foreach (var batch in loader.Epoch(epoch))
                {
                    LearningRate = schedule.At(epoch + (double)b++ / loader.BatchCount);
                    var (loss, right) = Step(batch.Images, batch.Labels);
                    lossSum += loss * batch.Count;
                    correct += right;
                    seen += batch.Count;
                    batches?.Report(new GraphBatchProgress(epoch + 1, b, loader.BatchCount, lossSum / seen, (double)correct / seen, seen / clock.Elapsed.TotalSeconds));
                }
            }
            catch (TrainingDivergedException e)
            {
                var kept = savedEpoch is { } s ? $"the last good checkpoint {_options.Output} (epoch {s}) is kept" : "no checkpoint was written (no epoch finished)";
                throw new GraphTrainingStoppedException($"training stopped: {e.Message} in epoch {epoch + 1}; {kept}");
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double? validationAccuracy = validation is null ? null : Accuracy(validation);
            double trainAccuracy = seen == 0 ? 0 : (double)correct / seen;
            double score = validationAccuracy ?? trainAccuracy;
            bool saved = _options.Output is not null && score >= best;
            if (score >= best) best = score;
            if (saved)
            {
                GraphCheckpoint.Save(_options.Output!, _model, Info(epoch + 1, score));
                savedEpoch = epoch + 1;
            }
            var summary = new GraphEpochSummary(epoch + 1, seen == 0 ? double.NaN : lossSum / seen, trainAccuracy, validationAccuracy, seen / seconds, seconds, saved);
            history.Add(summary);
            epochs?.Report(summary);
        }
        return history;
    }

    /// <summary>Top-1 accuracy on <paramref name="data"/> (no gradients, running batch statistics, no dropout).</summary>
    public double Accuracy(Dataset data)
    {
        if (data.Channels != _train.Channels || data.Height != _train.Height || data.Width != _train.Width)
            throw new ArgumentException($"validation data {data.Description} differs in image size from the training data {_train.Description}");
        int batchSize = _model.Batch.Independent ? _options.BatchSize : Math.Max(1, _model.Inputs[0].Dims[0]);
        var loader = new DataLoader(data, batchSize, DataLoaderOptions.Evaluation with { Mean = _mean, Std = _std });
        var tape = new Tape(_kernels) { GradEnabled = false };
        int correct = 0, seen = 0;
        foreach (var batch in loader.Epoch(0))
        {
            tape.Reset();
            correct += CountCorrect(_model.Scores(tape, Adapt(batch.Images)), batch.Labels);
            seen += batch.Count;
        }
        return seen == 0 ? 0 : (double)correct / seen;
    }

    /// <summary>The batch as the graph takes it: a gray batch replicated to three channels.</summary>
    private Tensor Adapt(Tensor images)
    {
        if (images.Shape[1] == _modelChannels) return images;
        int n = images.Shape[0], plane = images.Shape[2] * images.Shape[3];
        if (_replicated.Length != n * _modelChannels * plane) _replicated = new float[n * _modelChannels * plane];
        var source = images.ToArray();
        for (int i = 0; i < n; i++)
            for (int c = 0; c < _modelChannels; c++)
                source.AsSpan(i * plane, plane).CopyTo(_replicated.AsSpan((i * _modelChannels + c) * plane, plane));
        return Tensor.FromArray(_replicated, n, _modelChannels, images.Shape[2], images.Shape[3]);
    }

    private int CountCorrect(Tensor logits, Tensor labels)
    {
        int rows = logits.Shape[0], classes = logits.Shape[1];
        if (_logits.Length < logits.Size) _logits = new float[logits.Size];
        logits.Buffer.CopyTo(_logits.AsSpan(0, logits.Size));
        return Metrics.CountCorrect(_logits.AsSpan(0, logits.Size), labels.ToArray(), rows, classes);
    }
}
