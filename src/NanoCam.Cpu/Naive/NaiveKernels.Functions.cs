using NanoCam.Elementwise;

namespace NanoCam.Cpu.Naive;

// The generic element-wise kernels: one loop each, the operator struct supplies f and its derivatives.

public sealed partial class NaiveKernels
{
    /// <summary>y_i = f(x_i).</summary>
    public void UnaryForward<TOp>(Tensor output, Tensor input, TOp op) where TOp : struct, IUnaryFunction
    {
        Check.SameSize(output, input, op.Name);
        var y = output.Span;
        var x = input.Span;
        for (int i = 0; i < y.Length; i++) y[i] = op.Value(x[i]);
    }

    /// <summary>dx_i += f'(x_i, y_i) · dy_i  (the chain rule, one element at a time).</summary>
    public void UnaryBackward<TOp>(Tensor dInput, Tensor dOutput, Tensor input, Tensor output, TOp op) where TOp : struct, IUnaryFunction
    {
        Check.SameSize(dInput, dOutput, op.Name);
        Check.SameSize(dInput, input, op.Name);
        Check.SameSize(dInput, output, op.Name);
        var dx = dInput.Span;
        var dy = dOutput.Span;
        var x = input.Span;
        var y = output.Span;
        for (int i = 0; i < dx.Length; i++) dx[i] += op.Derivative(x[i], y[i]) * dy[i];
    }

    /// <summary>y_i = f(a_ia, b_ib), (ia, ib) the NumPy-broadcast positions of output element i in a and b.</summary>
    public void BinaryForward<TOp>(Tensor output, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryFunction
    {
        var map = new BroadcastMap(output.Shape, a.Shape, b.Shape);
        var y = output.Span;
        var av = a.Span;
        var bv = b.Span;
        for (int i = 0; i < y.Length; i++)
        {
            var (ia, ib) = map.Offsets(i);
            y[i] = op.Value(av[ia], bv[ib]);
        }
    }

    /// <summary>
    /// dA_ia += ∂f/∂a · dy_i and dB_ib += ∂f/∂b · dy_i for every output element i: an operand broadcast along an axis is
    /// read by every position of it, so "+=" at the same ia sums its gradient over that axis.
    /// </summary>
    public void BinaryBackward<TOp>(Tensor? dA, Tensor? dB, Tensor dOutput, Tensor a, Tensor b, Tensor output, TOp op) where TOp : struct, IBinaryFunction
    {
        Check.SameSize(dOutput, output, op.Name);
        var map = new BroadcastMap(dOutput.Shape, a.Shape, b.Shape);
        var dy = dOutput.Span;
        var y = output.Span;
        var av = a.Span;
        var bv = b.Span;
        var da = dA is null ? Span<float>.Empty : dA.Span;
        var db = dB is null ? Span<float>.Empty : dB.Span;
        for (int i = 0; i < dy.Length; i++)
        {
            var (ia, ib) = map.Offsets(i);
            if (dA is not null) da[ia] += op.DerivativeA(av[ia], bv[ib], y[i]) * dy[i];
            if (dB is not null) db[ib] += op.DerivativeB(av[ia], bv[ib], y[i]) * dy[i];
        }
    }

    /// <summary>y_i = c_i ≠ 0 ? a_i : b_i.</summary>
    public void SelectForward(Tensor output, Tensor condition, Tensor a, Tensor b)
    {
        Check.SameSize(output, condition, "where");
        Check.SameSize(output, a, "where");
        Check.SameSize(output, b, "where");
        var y = output.Span;
        var c = condition.Span;
        var av = a.Span;
        var bv = b.Span;
        for (int i = 0; i < y.Length; i++) y[i] = c[i] != 0 ? av[i] : bv[i];
    }

    /// <summary>dA_i += c_i ≠ 0 ? dy_i : 0;  dB_i += c_i ≠ 0 ? 0 : dy_i.</summary>
    public void SelectBackward(Tensor? dA, Tensor? dB, Tensor dOutput, Tensor condition)
    {
        Check.SameSize(dOutput, condition, "where backward");
        var dy = dOutput.Span;
        var c = condition.Span;
        var da = dA is null ? Span<float>.Empty : dA.Span;
        var db = dB is null ? Span<float>.Empty : dB.Span;
        for (int i = 0; i < dy.Length; i++)
        {
            if (c[i] != 0) { if (dA is not null) da[i] += dy[i]; }
            else if (dB is not null) db[i] += dy[i];
        }
    }
}
