using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Optim;

/// <summary>Updates trainable parameters from their gradients; all state tensors are allocated once, up front.</summary>
public abstract class Optimizer
{
    protected Optimizer(IKernels kernels, IEnumerable<Parameter> parameters, float learningRate)
    {
        Kernels = kernels;
        Parameters = parameters.Where(p => p.Trainable).ToArray();
        LearningRate = learningRate;
    }

    protected IKernels Kernels { get; }
    public IReadOnlyList<Parameter> Parameters { get; }
    public float LearningRate { get; set; }

    /// <summary>Number of Step calls so far.</summary>
    public int StepCount { get; private set; }

    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var value = Parameters[i].Value;
            if (value.Grad is not null) Update(i, value, value.Grad);
        }
    }

    /// <summary>Zeroes every parameter's gradient (parameters accumulate across backward passes until this).</summary>
    public void ZeroGrad()
    {
        for (int i = 0; i < Parameters.Count; i++)
            if (Parameters[i].Value.Grad is { } grad) Kernels.Fill(grad, 0f);
    }

    protected abstract void Update(int index, Tensor parameter, Tensor gradient);
}
