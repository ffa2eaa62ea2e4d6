namespace NanoCam.Nn.Optim;

/// <summary>The learning rate as a function of progress (epoch, possibly fractional).</summary>
public abstract class LearningRateSchedule
{
    protected LearningRateSchedule(float baseRate) => BaseRate = baseRate;

    public float BaseRate { get; }

    public abstract float At(double epoch);

    /// <summary>"constant", "step" (×0.1 every third of training), "cosine".</summary>
    public static LearningRateSchedule Parse(string name, float baseRate, int epochs) => name switch
    {
        "constant" => new ConstantSchedule(baseRate),
        "step" => new StepSchedule(baseRate, stepEpochs: Math.Max(1, epochs / 3), factor: 0.1f),
        "cosine" => new CosineSchedule(baseRate, epochs),
        _ => throw new ArgumentException($"unknown learning-rate schedule '{name}' (known: constant, step, cosine)"),
    };
}

public sealed class ConstantSchedule(float baseRate) : LearningRateSchedule(baseRate)
{
    public override float At(double epoch) => BaseRate;
}

/// <summary>lr = base · factor^⌊epoch / stepEpochs⌋.</summary>
public sealed class StepSchedule(float baseRate, int stepEpochs, float factor) : LearningRateSchedule(baseRate)
{
    public override float At(double epoch) => BaseRate * MathF.Pow(factor, (int)(epoch / stepEpochs));
}

/// <summary>Cosine annealing (Loshchilov &amp; Hutter 2017): lr = min + (base − min)·(1 + cos(π·epoch/total))/2.</summary>
public sealed class CosineSchedule(float baseRate, int totalEpochs, float minRate = 0f) : LearningRateSchedule(baseRate)
{
    public override float At(double epoch) =>
        minRate + (BaseRate - minRate) * (float)(1 + Math.Cos(Math.PI * Math.Min(epoch, totalEpochs) / totalEpochs)) / 2;
}
