using ILGPU;
using ILGPU.Algorithms;

namespace NanoCam.Gpu.Kernels;

/// <summary>Element-wise kernels, one thread per element; the formulas are the naive backend's (NaiveKernels.Elementwise).</summary>
internal static class ElementwiseKernels
{
    public static void Fill(Index1D i, ArrayView<float> tensor, float value) => tensor[i] = value;

    public static void Copy(Index1D i, ArrayView<float> destination, ArrayView<float> source) => destination[i] = source[i];

    public static void AddScaled(Index1D i, ArrayView<float> destination, ArrayView<float> source, float scale) =>
        destination[i] += scale * source[i];

    public static void ActivationForward(Index1D i, ArrayView<float> output, ArrayView<float> input, int kind, ActivationParams p) =>
        output[i] = Activate(kind, input[i], p);

    public static void ActivationBackward(Index1D i, ArrayView<float> dInput, ArrayView<float> dOutput, ArrayView<float> input,
        ArrayView<float> output, int kind, ActivationParams p) =>
        dInput[i] += Derivative(kind, input[i], output[i], p) * dOutput[i];

    /// <summary>Standard: dy·[x &gt; 0]; guided: dy·[x &gt; 0]·[dy &gt; 0]; deconvnet: dy·[dy &gt; 0].</summary>
    public static void ReluBackward(Index1D i, ArrayView<float> dInput, ArrayView<float> dOutput, ArrayView<float> input, int rule)
    {
        float dy = dOutput[i], x = input[i];
        bool pass = rule == (int)ReluBackwardRule.Standard ? x > 0
            : rule == (int)ReluBackwardRule.Guided ? x > 0 && dy > 0
            : dy > 0;
        if (pass) dInput[i] += dy;
    }

    private static float Activate(int kind, float x, ActivationParams p)
    {
        if (kind == (int)Activation.Relu) return x > 0 ? x : 0;
        if (kind == (int)Activation.LeakyRelu) return x > 0 ? x : p.Alpha * x;
        if (kind == (int)Activation.Sigmoid) return 1f / (1f + XMath.Exp(-x));
        if (kind == (int)Activation.Clip) return XMath.Min(XMath.Max(x, p.Low), p.High);
        return x;
    }

    private static float Derivative(int kind, float x, float y, ActivationParams p)
    {
        if (kind == (int)Activation.Relu) return x > 0 ? 1 : 0;
        if (kind == (int)Activation.LeakyRelu) return x > 0 ? 1 : p.Alpha;
        if (kind == (int)Activation.Sigmoid) return y * (1 - y);
        if (kind == (int)Activation.Clip) return x >= p.Low && x <= p.High ? 1 : 0;
        return 1;
    }

    public static void BinaryForward(Index1D i, ArrayView<float> output, ArrayView<float> a, ArrayView<float> b, int op, BroadcastIndex map)
    {
        map.Offsets(i, out int ia, out int ib);
        float x = a[ia], y = b[ib];
        output[i] = op == (int)BinaryOp.Add ? x + y : op == (int)BinaryOp.Sub ? x - y : op == (int)BinaryOp.Mul ? x * y : x / y;
    }

    /// <summary>
    /// dA[ia] += ∂(a∘b)/∂a · dy and dB[ib] += ∂(a∘b)/∂b · dy. An operand that is broadcast receives from many threads,
    /// so its sum goes through an atomic add; one of output size is written directly.
    /// </summary>
    public static void BinaryBackward(Index1D i, ArrayView<float> dA, ArrayView<float> dB, ArrayView<float> dOutput,
        ArrayView<float> a, ArrayView<float> b, int op, BroadcastIndex map, BinaryTargets targets)
    {
        map.Offsets(i, out int ia, out int ib);
        float x = a[ia], y = b[ib], dy = dOutput[i];
        float ga = op == (int)BinaryOp.Mul ? y : op == (int)BinaryOp.Div ? 1f / y : 1f;
        float gb = op == (int)BinaryOp.Add ? 1f : op == (int)BinaryOp.Sub ? -1f : op == (int)BinaryOp.Mul ? x : -x / (y * y);
        if (targets.HasA != 0)
        {
            if (targets.DirectA != 0) dA[ia] += ga * dy;
            else Atomic.Add(ref dA[ia], ga * dy);
        }
        if (targets.HasB != 0)
        {
            if (targets.DirectB != 0) dB[ib] += gb * dy;
            else Atomic.Add(ref dB[ib], gb * dy);
        }
    }
}

/// <summary>Which operand gradients a binary backward writes, and whether each is written without an atomic (not broadcast).</summary>
internal readonly record struct BinaryTargets(int HasA, int HasB, int DirectA, int DirectB);

/// <summary>
/// NumPy broadcasting for kernels (up to rank 6, no arrays so it can be a kernel argument): output dims and the
/// strides of a and b per axis, 0 on an axis an operand broadcasts along. Shapes align on the right.
/// </summary>
internal readonly struct BroadcastIndex
{
    public const int MaxRank = 6;
    private readonly int _d0, _d1, _d2, _d3, _d4, _d5;
    private readonly int _a0, _a1, _a2, _a3, _a4, _a5;
    private readonly int _b0, _b1, _b2, _b3, _b4, _b5;

    public BroadcastIndex(Shape output, Shape a, Shape b)
    {
        int rank = output.Rank;
        if (rank > MaxRank) throw new ArgumentException($"broadcast: the ILGPU backend handles rank ≤ {MaxRank}, got {output}");
        if (a.Rank > rank || b.Rank > rank) throw new ArgumentException($"broadcast: output {output} has lower rank than {a} or {b}");
        Span<int> d = stackalloc int[MaxRank], sa = stackalloc int[MaxRank], sb = stackalloc int[MaxRank];
        d.Fill(1);
        Strides(output, a, "a", sa);
        Strides(output, b, "b", sb);
        // Right-align into the six slots: axis i of the output goes to slot MaxRank − rank + i.
        for (int i = 0; i < rank; i++) d[MaxRank - rank + i] = output[i];
        (_d0, _d1, _d2, _d3, _d4, _d5) = (d[0], d[1], d[2], d[3], d[4], d[5]);
        (_a0, _a1, _a2, _a3, _a4, _a5) = (sa[0], sa[1], sa[2], sa[3], sa[4], sa[5]);
        (_b0, _b1, _b2, _b3, _b4, _b5) = (sb[0], sb[1], sb[2], sb[3], sb[4], sb[5]);
    }

    private static void Strides(Shape output, Shape operand, string name, Span<int> strides)
    {
        int rank = output.Rank, lead = rank - operand.Rank, stride = 1;
        for (int i = rank - 1; i >= lead; i--)
        {
            int d = operand[i - lead];
            if (d != output[i] && d != 1) throw new ArgumentException($"broadcast: operand {name} {operand} does not broadcast to {output}");
            strides[MaxRank - rank + i] = d == 1 ? 0 : stride;
            stride *= d;
        }
    }

    /// <summary>Flat output index → flat indices into a and b.</summary>
    public void Offsets(int flat, out int ia, out int ib)
    {
        ia = 0;
        ib = 0;
        Step(ref flat, ref ia, ref ib, _d5, _a5, _b5);
        Step(ref flat, ref ia, ref ib, _d4, _a4, _b4);
        Step(ref flat, ref ia, ref ib, _d3, _a3, _b3);
        Step(ref flat, ref ia, ref ib, _d2, _a2, _b2);
        Step(ref flat, ref ia, ref ib, _d1, _a1, _b1);
        Step(ref flat, ref ia, ref ib, _d0, _a0, _b0);
    }

    private static void Step(ref int flat, ref int ia, ref int ib, int dim, int strideA, int strideB)
    {
        int coordinate = flat % dim;
        flat /= dim;
        ia += coordinate * strideA;
        ib += coordinate * strideB;
    }
}
