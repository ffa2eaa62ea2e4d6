namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    public void ActivationForward(Activation kind, Tensor output, Tensor input, ActivationParams p)
    {
        Check.SameSize(output, input, "activation");
        var y = output.Span;
        var x = input.Span;
        for (int i = 0; i < x.Length; i++) y[i] = Activate(kind, x[i], p);
    }

    public void ActivationBackward(Activation kind, Tensor dInput, Tensor dOutput, Tensor input, Tensor output, ActivationParams p)
    {
        var dx = dInput.Span;
        var dy = dOutput.Span;
        var x = input.Span;
        var y = output.Span;
        for (int i = 0; i < dx.Length; i++) dx[i] += Derivative(kind, x[i], y[i], p) * dy[i];
    }

    public void ReluBackward(ReluBackwardRule rule, Tensor dInput, Tensor dOutput, Tensor input, bool accumulate = true)
    {
        if (!accumulate) Fill(dInput, 0f);
        var dx = dInput.Span;
        var dy = dOutput.Span;
        var x = input.Span;
        for (int i = 0; i < dx.Length; i++)
        {
            bool pass = rule switch
            {
                ReluBackwardRule.Standard => x[i] > 0,
                ReluBackwardRule.Guided => x[i] > 0 && dy[i] > 0,
                _ => dy[i] > 0, // deconvnet
            };
            if (pass) dx[i] += dy[i];
        }
    }

    /// <summary>y = f(x) for one element; the SIMD backend's operator structs must agree with this.</summary>
    public static float Activate(Activation kind, float x, ActivationParams p) => kind switch
    {
        Activation.Relu => x > 0 ? x : 0,
        Activation.LeakyRelu => x > 0 ? x : p.Alpha * x,
        Activation.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        Activation.Clip => MathF.Min(MathF.Max(x, p.Low), p.High),
        _ => x,
    };

    /// <summary>f'(x), written with the forward output y where that is cheaper (sigmoid: y(1 − y)).</summary>
    public static float Derivative(Activation kind, float x, float y, ActivationParams p) => kind switch
    {
        Activation.Relu => x > 0 ? 1 : 0,
        Activation.LeakyRelu => x > 0 ? 1 : p.Alpha,
        Activation.Sigmoid => y * (1 - y),
        Activation.Clip => x >= p.Low && x <= p.High ? 1 : 0,
        _ => 1,
    };

    public void BinaryForward(BinaryOp op, Tensor output, Tensor a, Tensor b)
    {
        var map = new BroadcastMap(output.Shape, a.Shape, b.Shape);
        var y = output.Span;
        var av = a.Span;
        var bv = b.Span;
        for (int i = 0; i < y.Length; i++)
        {
            var (ia, ib) = map.Offsets(i);
            y[i] = op switch
            {
                BinaryOp.Add => av[ia] + bv[ib],
                BinaryOp.Sub => av[ia] - bv[ib],
                BinaryOp.Mul => av[ia] * bv[ib],
                _ => av[ia] / bv[ib],
            };
        }
    }

    public void BinaryBackward(BinaryOp op, Tensor? dA, Tensor? dB, Tensor dOutput, Tensor a, Tensor b)
    {
        var map = new BroadcastMap(dOutput.Shape, a.Shape, b.Shape);
        var dy = dOutput.Span;
        var av = a.Span;
        var bv = b.Span;
        var da = dA is null ? Span<float>.Empty : dA.Span;
        var db = dB is null ? Span<float>.Empty : dB.Span;
        for (int i = 0; i < dy.Length; i++)
        {
            var (ia, ib) = map.Offsets(i);
            // ∂(a∘b)/∂a and ∂(a∘b)/∂b; summing over the broadcast copies is what "+=" at ia/ib does.
            (float ga, float gb) = op switch
            {
                BinaryOp.Add => (1f, 1f),
                BinaryOp.Sub => (1f, -1f),
                BinaryOp.Mul => (bv[ib], av[ia]),
                _ => (1f / bv[ib], -av[ia] / (bv[ib] * bv[ib])),
            };
            if (dA is not null) da[ia] += ga * dy[i];
            if (dB is not null) db[ib] += gb * dy[i];
        }
    }
}
