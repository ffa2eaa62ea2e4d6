using NanoCam.Autodiff;
using NanoCam.Nn.Models;
using NanoCam.Elementwise;
using NanoCam.Nn.Modules;
using NanoCam.Nn.Optim;
using NanoCam.Ops;

namespace NanoCam.Nn.Training;

/// <summary>Thrown when the loss stops being a finite number; the message says where.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>
/// One optimization step: forward, the loss — a classifier's mean cross-entropy (summed over both branches of an
/// <see cref="AttentionBranchNetwork"/>; plus λ times the mean CAM entropy when <see cref="CamFostering"/> is given), or a
/// dense-output network's <see cref="DenseObjective"/> — backward, update. The tape and every buffer are reused, so after the first step with a given batch shape a step
/// allocates nothing.
/// </summary>
public sealed class TrainingStep
{
    private readonly Module _model;
    private readonly Optimizer _optimizer;
    private readonly Tape _tape;
    private readonly IKernels _kernels;
    private float[] _logits = [];
    private Tensor? _images, _labels;

    public TrainingStep(Module model, Optimizer optimizer, IKernels kernels, ulong seed = 0, CamFostering? fostering = null, DenseObjective? objective = null)
    {
        if (fostering is not null && objective is not null) throw new ArgumentException("CAM fostering is for classifiers; this network has a dense output");
        _model = model;
        Fostering = fostering;
        Objective = objective;
        _optimizer = optimizer;
        _kernels = kernels;
        _tape = new Tape(kernels) { Seed = seed, Training = true };
    }

    /// <summary>The CAM entropy term added to the loss, or null for plain cross-entropy.</summary>
    public CamFostering? Fostering { get; }

    /// <summary>The loss of a dense-output network, or null for a classifier's cross-entropy.</summary>
    public DenseObjective? Objective { get; }

    /// <summary>
    /// Runs one step of a dense-output network on the batch's dataset rows <paramref name="indices"/> (its ground truth
    /// is read from them); returns the mean loss and how many images were hits.
    /// </summary>
    public (float Loss, int Correct) Run(Tensor images, Tensor labels, ReadOnlySpan<int> indices)
    {
        if (Objective is not { } objective) return Run(images, labels);
        Span<float> hostLabels = labels.Size <= 1024 ? stackalloc float[labels.Size] : new float[labels.Size];
        labels.Buffer.CopyTo(hostLabels);
        images = _kernels.Stage(images, ref _images);
        _tape.Reset();
        var (loss, hits) = objective.Loss(_tape, images, hostLabels, indices);
        float lossValue = ReadScalar(loss);
        if (!float.IsFinite(lossValue)) throw new TrainingDivergedException($"the loss became {lossValue} at optimizer step {_optimizer.StepCount + 1}");
        _tape.Backward(loss);
        _optimizer.Step();
        _optimizer.ZeroGrad();
        return (lossValue, hits);
    }

    /// <summary>The mean true-class CAM entropy (1/N) Σ_n H_n of the last step (0 without fostering).</summary>
    public float LastMeanEntropy { get; private set; }

    /// <summary>
    /// Runs one step; returns the batch's mean loss (cross-entropy + λ·entropy when fostering) and how many predictions were right. Host batches are copied into
    /// reused device tensors when the kernels live on a device (the model must have been moved there: Module.MoveTo).
    /// </summary>
    public (float Loss, int Correct) Run(Tensor images, Tensor labels)
    {
        if (Objective is not null) throw new InvalidOperationException("a dense-output network's step needs the batch's dataset indices: Run(images, labels, indices)");
        images = _kernels.Stage(images, ref _images);
        labels = _kernels.Stage(labels, ref _labels);
        _tape.Reset();
        Tensor logits, loss;
        if (_model is AttentionBranchNetwork attentionBranch)
        {
            // ABN, eq. 1: L = L_att + L_per, a cross-entropy on each branch's scores; accuracy is the perception branch's.
            var outputs = attentionBranch.Branches(_tape, images);
            logits = outputs.PerceptionScores;
            loss = _tape.Add(_tape.CrossEntropy(outputs.AttentionScores, labels), _tape.CrossEntropy(logits, labels));
        }
        else
        {
            logits = _model.Call(_tape, images);
            loss = _tape.CrossEntropy(logits, labels);
        }
        float lossValue = ReadScalar(loss);
        if (!float.IsFinite(lossValue)) throw new TrainingDivergedException($"the loss became {lossValue} at optimizer step {_optimizer.StepCount + 1}");
        if (Fostering is { } fostering)
        {
            var entropy = fostering.MeanEntropy(_tape, labels, logits);
            float entropyValue = ReadScalar(entropy);
            if (!float.IsFinite(entropyValue))
                throw new TrainingDivergedException($"the CAM fostering term became {entropyValue} at optimizer step {_optimizer.StepCount + 1}");
            LastMeanEntropy = entropyValue;
            lossValue += fostering.Lambda * entropyValue;
            loss = _tape.Add(loss, _tape.Unary(entropy, new Scale(fostering.Lambda)));
        }
        _tape.Backward(loss);
        _optimizer.Step();
        _optimizer.ZeroGrad();
        return (lossValue, CountCorrect(logits, labels));
    }

    private int CountCorrect(Tensor logits, Tensor labels)
    {
        int rows = logits.Shape[0], classes = logits.Shape[1];
        if (_logits.Length < logits.Size + rows) _logits = new float[logits.Size + rows];
        logits.Buffer.CopyTo(_logits.AsSpan(0, logits.Size));
        labels.Buffer.CopyTo(_logits.AsSpan(logits.Size, rows));
        return Metrics.CountCorrect(_logits.AsSpan(0, logits.Size), _logits.AsSpan(logits.Size, rows), rows, classes);
    }

    internal static float ReadScalar(Tensor t)
    {
        Span<float> value = stackalloc float[1];
        t.Buffer.CopyTo(value);
        return value[0];
    }
}
