using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Onnx;

/// <summary>
/// ONNX operator semantics on NanoCam: each operator maps its inputs and attributes onto tape operations
/// (float tensors, differentiable) or folds them on the host (integer shape arithmetic: Shape, Gather, Unsqueeze, …).
/// </summary>
internal static partial class OnnxOperators
{
    private static readonly HashSet<string> Supported =
    [
        "Conv", "Relu", "LeakyRelu", "Sigmoid", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "BatchNormalization", "Dropout", "Flatten", "Reshape", "Concat",
        "Softmax", "LogSoftmax", "Identity", "Constant", "Shape", "Gather", "Unsqueeze", "Squeeze",
    ];

    public static bool IsSupported(string opType) => Supported.Contains(opType);

    public static OnnxValue?[] Execute(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        try
        {
            return node.OpType switch
            {
                "Conv" => [Conv(tape, node, inputs)],
                "Relu" => [OnnxValue.FromTensor(tape.Relu(Float(node, inputs, 0)))],
                "LeakyRelu" => [OnnxValue.FromTensor(tape.LeakyRelu(Float(node, inputs, 0), node.Float("alpha", 0.01f)))],
                "Sigmoid" => [OnnxValue.FromTensor(tape.Sigmoid(Float(node, inputs, 0)))],
                "Clip" => [Clip(tape, node, inputs)],
                "MaxPool" => MaxPool(tape, node, inputs),
                "AveragePool" => [AveragePool(tape, node, inputs)],
                "GlobalAveragePool" => [GlobalPool(tape, node, inputs, average: true)],
                "GlobalMaxPool" => [GlobalPool(tape, node, inputs, average: false)],
                "Gemm" => [Gemm(tape, node, inputs)],
                "MatMul" => [MatMul(tape, node, inputs)],
                "Add" => [Binary(tape, node, inputs, BinaryOp.Add)],
                "Sub" => [Binary(tape, node, inputs, BinaryOp.Sub)],
                "Mul" => [Binary(tape, node, inputs, BinaryOp.Mul)],
                "Div" => [Binary(tape, node, inputs, BinaryOp.Div)],
                "BatchNormalization" => BatchNormalization(tape, node, inputs),
                "Dropout" => Dropout(tape, node, inputs),
                "Flatten" => [Flatten(tape, node, inputs)],
                "Reshape" => [Reshape(tape, node, inputs)],
                "Concat" => [Concat(tape, node, inputs)],
                "Softmax" => [Softmax(tape, node, inputs, logarithm: false)],
                "LogSoftmax" => [Softmax(tape, node, inputs, logarithm: true)],
                "Identity" => [Identity(tape, Required(node, inputs, 0))],
                "Constant" => [Constant(node)],
                "Shape" => [Shape(node, inputs)],
                "Gather" => [Gather(tape, node, inputs)],
                "Unsqueeze" => [Unsqueeze(tape, node, inputs)],
                "Squeeze" => [Squeeze(tape, node, inputs)],
                _ => throw new NotSupportedException($"unsupported ONNX operator {node.OpType} (node {node.Name}, opset {node.Opset})"),
            };
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"ONNX node {node.Name} ({node.OpType}, opset {node.Opset}): {ex.Message}", ex);
        }
    }

    // ---- inputs -------------------------------------------------------------------------------------------------

    private static OnnxValue Required(OnnxNode node, IReadOnlyList<OnnxValue?> inputs, int index) =>
        index < inputs.Count && inputs[index] is { } v ? v
        : throw new ArgumentException($"input {index} is required but missing");

    private static OnnxValue? Optional(IReadOnlyList<OnnxValue?> inputs, int index) => index < inputs.Count ? inputs[index] : null;

    /// <summary>A float input on the tape; integer-typed data is not something the float kernels compute on.</summary>
    private static Tensor Float(OnnxNode node, IReadOnlyList<OnnxValue?> inputs, int index)
    {
        var v = Required(node, inputs, index);
        if (v.Tensor is { } t) return t;
        throw new NotSupportedException($"ONNX node {node.Name} ({node.OpType}): element type {v.ElementType.ToString().ToUpperInvariant()} of input {index} is not supported (NanoCam computes in float32)");
    }

    private static float Scalar(OnnxValue v) => v.ToFloatArray() is [var x] ? x : throw new ArgumentException($"expected a scalar, got {v}");

    private static OnnxValue Identity(Tape tape, OnnxValue v) =>
        v.Tensor is { } t ? OnnxValue.FromTensor(tape.Reshape(t, t.Shape.Dims)) : v;

    // ---- convolution and pooling ---------------------------------------------------------------------------------

    /// <summary>Begin and end padding per spatial axis, from explicit pads or auto_pad (SAME_*: out = ceil(in / stride)).</summary>
    private static (int[] Begin, int[] End) Padding(OnnxNode node, int[] inputSizes, int[] kernel, int[] strides, int[] dilations)
    {
        int n = inputSizes.Length;
        var begin = new int[n];
        var end = new int[n];
        var autoPad = node.String("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET" or "":
                var pads = node.Ints("pads");
                if (pads is not null)
                {
                    if (pads.Length != 2 * n) throw new ArgumentException($"pads has {pads.Length} values for {n} spatial axes");
                    for (int i = 0; i < n; i++) { begin[i] = (int)pads[i]; end[i] = (int)pads[i + n]; }
                }
                break;
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                for (int i = 0; i < n; i++)
                {
                    int output = (inputSizes[i] + strides[i] - 1) / strides[i];
                    int total = Math.Max(0, (output - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - inputSizes[i]);
                    // SAME_UPPER puts the odd cell at the end, SAME_LOWER at the beginning.
                    begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[i] = total - begin[i];
                }
                break;
            default:
                throw new ArgumentException($"unknown auto_pad '{autoPad}'");
        }
        return (begin, end);
    }

    private static int[] IntsOr(OnnxNode node, string name, int count, int fallback)
    {
        var values = node.Ints(name);
        if (values is null) return Enumerable.Repeat(fallback, count).ToArray();
        if (values.Length != count) throw new ArgumentException($"{name} has {values.Length} values for {count} spatial axes");
        return values.Select(v => (int)v).ToArray();
    }

    /// <summary>1-D operators run as 2-D with a height of 1: [N, C, L] → [N, C, 1, L].</summary>
    private static Tensor Lift1d(Tape tape, Tensor t) => tape.Reshape(t, [t.Shape[0], t.Shape[1], 1, t.Shape[2]]);

    private static int SpatialRank(OnnxNode node, Tensor x)
    {
        int spatial = x.Shape.Rank - 2;
        if (spatial is not (1 or 2))
            throw new NotSupportedException($"ONNX node {node.Name} ({node.OpType}): {spatial}-D spatial input {x.Shape} is not supported (1-D and 2-D convolution only)");
        return spatial;
    }

    /// <summary>A 2-D convolution's geometry for one pair of input and weight shapes.</summary>
    private sealed record ConvPlan(Shape Input, Shape Weight, Conv2dGeometry Geometry);

    private static OnnxValue Conv(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var x = Float(node, inputs, 0);
        var w = Float(node, inputs, 1);
        var bias = Optional(inputs, 2)?.Tensor;
        if (Conv2dGeometryOf(node, x, w) is { } g) return OnnxValue.FromTensor(tape.Conv2d(x, w, bias, g));
        // 1-D: run as 2-D with a height of 1.
        var strides = IntsOr(node, "strides", 1, 1);
        var dilations = IntsOr(node, "dilations", 1, 1);
        var (begin, end) = Padding(node, [x.Shape[2]], [w.Shape[2]], strides, dilations);
        var g1 = Conv2dGeometry.For(new Shape(x.Shape[0], x.Shape[1], 1, x.Shape[2]), new Shape(w.Shape[0], w.Shape[1], 1, w.Shape[2]),
            (1, strides[0]), (0, begin[0], 0, end[0]), (1, dilations[0]), (int)node.Int("group", 1));
        var y1 = tape.Conv2d(Lift1d(tape, x), tape.Reshape(w, [w.Shape[0], w.Shape[1], 1, w.Shape[2]]), bias, g1);
        return OnnxValue.FromTensor(tape.Reshape(y1, [y1.Shape[0], y1.Shape[1], y1.Shape[3]]));
    }

    /// <summary>
    /// The geometry of a 2-D Conv node for these input and weight shapes (kept on the node while the shapes stay),
    /// or null for a 1-D convolution; any other rank is refused.
    /// </summary>
    internal static Conv2dGeometry? Conv2dGeometryOf(OnnxNode node, Tensor x, Tensor w)
    {
        if (node.Plan is ConvPlan plan && plan.Input == x.Shape && plan.Weight == w.Shape) return plan.Geometry;
        int spatial = SpatialRank(node, x);
        if (spatial == 1) return null;
        var kernel = w.Shape.Dims[2..].ToArray();
        var strides = IntsOr(node, "strides", spatial, 1);
        var dilations = IntsOr(node, "dilations", spatial, 1);
        var (begin, end) = Padding(node, x.Shape.Dims[2..].ToArray(), kernel, strides, dilations);
        int groups = (int)node.Int("group", 1);
        var g = Conv2dGeometry.For(x.Shape, w.Shape, (strides[0], strides[1]), (begin[0], begin[1], end[0], end[1]), (dilations[0], dilations[1]), groups);
        node.Plan = new ConvPlan(x.Shape, w.Shape, g);
        return g;
    }

    // ---- dense ---------------------------------------------------------------------------------------------------

    /// <summary>Y = α·op(A)·op(B) + β·C, C broadcast to [M, N].</summary>
    private static OnnxValue Gemm(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var a = Float(node, inputs, 0);
        var b = Float(node, inputs, 1);
        var y = tape.MatMul(a, b, node.Int("transA", 0) != 0, node.Int("transB", 0) != 0, node.Float("alpha", 1f));
        float beta = node.Float("beta", 1f);
        if (Optional(inputs, 2)?.Tensor is { } c && beta != 0f)
            y = tape.Add(y, beta == 1f ? c : tape.Mul(c, Tensor.Scalar(beta)));
        return OnnxValue.FromTensor(y);
    }

    /// <summary>NumPy matmul; leading (batch) axes that broadcast 1 against n are expanded first.</summary>
    private static OnnxValue MatMul(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var a = Float(node, inputs, 0);
        var b = Float(node, inputs, 1);
        if (a.Shape.Rank == 2 && b.Shape.Rank == 2) return OnnxValue.FromTensor(tape.MatMul(a, b));
        if (a.Shape.Rank > 2 && b.Shape.Rank > 2)
        {
            var batch = TapeOps.BroadcastShape(new Shape(a.Shape.Dims[..^2].ToArray()), new Shape(b.Shape.Dims[..^2].ToArray()), "matmul");
            a = ExpandBatch(tape, a, batch);
            b = ExpandBatch(tape, b, batch);
        }
        return OnnxValue.FromTensor(tape.BatchedMatMul(a, b));
    }

    private static Tensor ExpandBatch(Tape tape, Tensor t, int[] batch)
    {
        var own = t.Shape.Dims[..^2].ToArray();
        if (own.AsSpan().SequenceEqual(batch) || own.All(d => d == 1)) return t;
        // t + 0 with the zeros shaped [batch…, 1, 1] materializes the broadcast (and sums it back in backward).
        return tape.Add(t, Tensor.Zeros([.. batch, 1, 1]));
    }

    // ---- element-wise --------------------------------------------------------------------------------------------

    private static OnnxValue Binary(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs, BinaryOp op)
    {
        var a = Required(node, inputs, 0);
        var b = Required(node, inputs, 1);
        if (a.IsFloat || b.IsFloat) return OnnxValue.FromTensor(tape.Binary(op, Float(node, inputs, 0), Float(node, inputs, 1)));
        // Integer shape arithmetic, folded on the host with NumPy broadcasting.
        var dims = TapeOps.BroadcastShape(new Shape(a.Dims), new Shape(b.Dims), node.OpType);
        var result = new long[new Shape(dims).Size];
        var av = a.Integers!;
        var bv = b.Integers!;
        for (int i = 0; i < result.Length; i++)
        {
            long x = av[BroadcastOffset(i, dims, a.Dims)], y = bv[BroadcastOffset(i, dims, b.Dims)];
            result[i] = op switch { BinaryOp.Add => x + y, BinaryOp.Sub => x - y, BinaryOp.Mul => x * y, _ => FloorDiv(x, y) };
        }
        return OnnxValue.FromIntegers(result, dims, a.ElementType);
    }

    // Integer Div truncates like C (the ONNX reference follows NumPy's integer semantics for these only in sign-agreeing cases).
    private static long FloorDiv(long x, long y) => y == 0 ? throw new DivideByZeroException("integer division by zero") : x / y;

    private static int BroadcastOffset(int flat, int[] dims, int[] operand)
    {
        int offset = 0, stride = 1;
        for (int i = dims.Length - 1, j = operand.Length - 1; j >= 0; i--, j--)
        {
            int coordinate = flat % dims[i];
            flat /= dims[i];
            if (operand[j] != 1) offset += coordinate * stride;
            stride *= operand[j];
        }
        return offset;
    }

    /// <summary>Clip: bounds are attributes before opset 11 and optional scalar inputs from 11 on; min &gt; max gives max.</summary>
    private static OnnxValue Clip(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var x = Float(node, inputs, 0);
        float low, high;
        if (node.Opset < 11)
        {
            low = node.Float("min", float.NegativeInfinity);
            high = node.Float("max", float.PositiveInfinity);
        }
        else
        {
            low = Optional(inputs, 1) is { } lo ? Scalar(lo) : float.NegativeInfinity;
            high = Optional(inputs, 2) is { } hi ? Scalar(hi) : float.PositiveInfinity;
        }
        return OnnxValue.FromTensor(tape.Clip(x, low, high));
    }

    private static OnnxValue Softmax(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs, bool logarithm)
    {
        var x = Float(node, inputs, 0);
        // Before opset 13 the input is coerced to 2-D at axis (default 1); from 13 on the softmax runs along one axis (default -1).
        bool coerce = node.Opset < 13;
        int axis = (int)node.Int("axis", coerce ? 1 : -1);
        if (!logarithm) return OnnxValue.FromTensor(tape.Softmax(x, axis, coerce));
        // log-softmax(x) = log-softmax(x − m) for any constant m. Subtracting the row maximum first keeps large inputs
        // exact: the kernel forms max + log Σ e^{x−max}, which rounds at the size of max (1e4 → 1e-3 steps in float32).
        // m is a constant, so the gradient is unchanged (log-softmax's gradient along a constant shift is zero).
        var shifted = tape.Sub(x, RowMaximum(x, axis, coerce));
        return OnnxValue.FromTensor(tape.LogSoftmax(shifted, axis, coerce));
    }

    /// <summary>The maximum over the softmax axis (or over every axis from it, when coerced), keeping those axes as size 1.</summary>
    private static Tensor RowMaximum(Tensor x, int axis, bool coerce)
    {
        var s = x.Shape;
        if (s.Rank == 0) return Tensor.Scalar(x.ToArray()[0]);
        int a = s.Axis(axis);
        int outer = s.Product(0, a), classes = coerce ? s.Product(a, s.Rank) : s[a], inner = coerce ? 1 : s.Product(a + 1, s.Rank);
        var values = x.ToArray();
        var max = new float[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                float m = float.NegativeInfinity;
                for (int c = 0; c < classes; c++) m = MathF.Max(m, values[(o * classes + c) * inner + i]);
                max[o * inner + i] = float.IsFinite(m) ? m : 0f;
            }
        var dims = s.ToArray();
        for (int d = a; d < (coerce ? s.Rank : a + 1); d++) dims[d] = 1;
        return Tensor.FromArray(max, dims);
    }

    /// <summary>Inference batch norm y = γ·(x − μ)/√(σ² + ε) + β; training_mode (opset ≥ 14) uses batch statistics and returns the updated running ones.</summary>
    private static OnnxValue?[] BatchNormalization(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var x = Float(node, inputs, 0);
        var scale = Float(node, inputs, 1);
        var bias = Float(node, inputs, 2);
        var mean = Float(node, inputs, 3);
        var variance = Float(node, inputs, 4);
        float epsilon = node.Float("epsilon", 1e-5f);
        bool training = node.Int("training_mode", 0) != 0;
        var dims = x.Shape.ToArray();
        var x4 = x.Shape.Rank is 2 or 4 ? x : tape.Reshape(x, [dims[0], dims[1], x.Shape.Product(2, dims.Length), 1]);
        if (!training)
        {
            var y0 = tape.BatchNorm(x4, scale, bias, mean, variance, training: false, epsilon: epsilon);
            return [OnnxValue.FromTensor(ReferenceEquals(x4, x) ? y0 : tape.Reshape(y0, dims))];
        }
        // Batch statistics normalize y; the running statistics follow the ONNX rule
        // running = running·momentum + batch·(1 − momentum), with the population (biased) batch variance.
        var y = tape.BatchNorm(x4, scale, bias, Tensor.FromArray(mean.ToArray(), mean.Shape.ToArray()),
            Tensor.FromArray(variance.ToArray(), variance.Shape.ToArray()), training: true, epsilon: epsilon);
        float momentum = node.Float("momentum", 0.9f);
        int channels = dims[1], spatial = x.Shape.Product(2, dims.Length), count = dims[0] * spatial;
        var xs = x.ToArray();
        var runningMean = mean.ToArray();
        var runningVar = variance.ToArray();
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (int n = 0; n < dims[0]; n++)
                for (int i = 0; i < spatial; i++)
                {
                    double v = xs[(n * channels + c) * spatial + i];
                    sum += v;
                    squares += v * v;
                }
            double batchMean = sum / count, batchVar = squares / count - batchMean * batchMean;
            runningMean[c] = (float)(runningMean[c] * momentum + batchMean * (1 - momentum));
            runningVar[c] = (float)(runningVar[c] * momentum + batchVar * (1 - momentum));
        }
        return [OnnxValue.FromTensor(ReferenceEquals(x4, x) ? y : tape.Reshape(y, dims)),
            OnnxValue.FromTensor(Tensor.FromArray(runningMean, channels)), OnnxValue.FromTensor(Tensor.FromArray(runningVar, channels))];
    }

    /// <summary>
    /// Dropout: at inference the identity with an all-true mask. With training_mode (an input from opset 12 on) it is
    /// inverted dropout, y = x·keep/(1 − ratio), keep drawn per element from the tape's counter-based generator
    /// (<see cref="Tape.Seed"/>; the node's seed attribute cannot reproduce another runtime's draws, so it is not read).
    /// </summary>
    private static OnnxValue?[] Dropout(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var x = Required(node, inputs, 0);
        bool training = node.Opset >= 12 && Optional(inputs, 2) is { } mode && mode.ToInt64Array() is [not 0];
        var y = training && x.Tensor is { } t ? tape.Dropout(t, Optional(inputs, 1) is { } r ? Scalar(r) : 0.5f, training: true) : null;
        bool wantMask = node.IsOutputUsed(1);
        // Inference, or ratio 0 (where tape.Dropout records nothing and returns its input): identity, every element kept.
        if (y is null || ReferenceEquals(y, x.Tensor))
            return [Identity(tape, x), wantMask ? OnnxValue.FromIntegers(Enumerable.Repeat(1L, x.Size).ToArray(), x.Dims, OnnxDataType.Bool) : null];
        var keep = wantMask ? ((DropoutNode)tape.Nodes[tape.Count - 1]).Mask.ToArray().Select(m => m != 0f ? 1L : 0L).ToArray() : null;
        return [OnnxValue.FromTensor(y), keep is null ? null : OnnxValue.FromIntegers(keep, x.Dims, OnnxDataType.Bool)];
    }

    // ---- shapes --------------------------------------------------------------------------------------------------

    private static OnnxValue Flatten(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var x = Required(node, inputs, 0);
        int rank = x.Dims.Length;
        int axis = (int)node.Int("axis", 1);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis > rank) throw new ArgumentException($"axis {node.Int("axis", 1)} is out of range for rank {rank}");
        var s = new Shape(x.Dims);
        return Reshaped(tape, x, [s.Product(0, axis), s.Product(axis, rank)]);
    }

    private static OnnxValue Reshaped(Tape tape, OnnxValue x, int[] dims) =>
        x.Tensor is { } t ? OnnxValue.FromTensor(tape.Reshape(t, dims)) : OnnxValue.FromIntegers(x.Integers!, dims, x.ElementType);

    /// <summary>Reshape: 0 copies the input's size on that axis (unless allowzero), −1 is inferred from the element count.</summary>
    private static OnnxValue Reshape(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var x = Required(node, inputs, 0);
        var requested = node.Opset < 5 ? node.Ints("shape") ?? [] : Required(node, inputs, 1).ToInt64Array();
        bool allowZero = node.Int("allowzero", 0) != 0;
        var dims = new int[requested.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = requested[i];
            if (d == 0 && !allowZero)
            {
                if (i >= x.Dims.Length) throw new ArgumentException($"shape {Format(requested)} copies axis {i}, which input {x} lacks");
                d = x.Dims[i];
            }
            if (d == -1)
            {
                if (inferred >= 0) throw new ArgumentException($"shape {Format(requested)} has more than one -1");
                inferred = i;
                continue;
            }
            if (d < 0) throw new ArgumentException($"shape {Format(requested)} has a negative size");
            dims[i] = (int)d;
            known *= d;
        }
        if (inferred >= 0)
        {
            if (known == 0 || x.Size % known != 0) throw new ArgumentException($"cannot reshape {x} to {Format(requested)}");
            dims[inferred] = (int)(x.Size / known);
        }
        return Reshaped(tape, x, dims);
    }

    private static OnnxValue Concat(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var values = inputs.Where(v => v is not null).Select(v => v!).ToArray();
        if (values.Length == 0) throw new ArgumentException("no inputs");
        int rank = values[0].Dims.Length;
        int axis = (int)node.Int("axis", 1);
        if (axis < 0) axis += rank;
        if (values.Any(v => v.IsFloat))
        {
            var tensors = values.Select(v => v.AsTensor()).ToArray();
            return OnnxValue.FromTensor(tape.Concat(tensors, axis));
        }
        // Integer concat (shape vectors): outer × (each input's slab along axis) × inner.
        var dims = (int[])values[0].Dims.Clone();
        dims[axis] = values.Sum(v => v.Dims[axis]);
        var s = new Shape(dims);
        int outer = s.Product(0, axis), inner = s.Product(axis + 1, rank);
        var result = new List<long>(s.Size);
        for (int o = 0; o < outer; o++)
            foreach (var v in values)
            {
                int slab = v.Dims[axis] * inner;
                result.AddRange(v.Integers!.AsSpan(o * slab, slab).ToArray());
            }
        return OnnxValue.FromIntegers([.. result], dims, values[0].ElementType);
    }

    private static OnnxValue Constant(OnnxNode node)
    {
        if (node.Attribute("value") is { } a) return OnnxTensors.Decode(a.T, null, $"Constant node {node.Name}");
        if (node.HasAttribute("value_float")) return OnnxValue.FromTensor(Tensor.Scalar(node.Float("value_float", 0f)));
        if (node.Floats("value_floats") is { } fs) return OnnxValue.FromTensor(Tensor.FromArray(fs, fs.Length));
        if (node.HasAttribute("value_int")) return OnnxValue.FromIntegers([node.Int("value_int", 0)], []);
        if (node.Ints("value_ints") is { } ints) return OnnxValue.FromIntegers(ints, [ints.Length]);
        throw new NotSupportedException($"ONNX node {node.Name} (Constant): only value, value_float(s) and value_int(s) are supported");
    }

    /// <summary>Shape: the input's dimensions as an INT64 vector, sliced by start/end (opset ≥ 15).</summary>
    private static OnnxValue Shape(OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var dims = Required(node, inputs, 0).Dims;
        int rank = dims.Length;
        int start = (int)node.Int("start", 0), end = (int)node.Int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, start, rank);
        var values = dims[start..end].Select(d => (long)d).ToArray();
        return OnnxValue.FromIntegers(values, [values.Length]);
    }

    /// <summary>
    /// Gather: out = data.shape[:axis] + indices.shape + data.shape[axis+1:]. Float data runs on the tape (differentiable);
    /// integer data (shape vectors) is folded on the host.
    /// </summary>
    private static OnnxValue Gather(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var data = Required(node, inputs, 0);
        var indices = Required(node, inputs, 1);
        if (data.Tensor is { } t)
        {
            int a = t.Shape.Axis((int)node.Int("axis", 0));
            var picked = tape.Gather(t, a, indices.ToInt64Array().Select(i => checked((int)i)).ToArray());
            return OnnxValue.FromTensor(tape.Reshape(picked, [.. t.Shape.Dims[..a], .. indices.Dims, .. t.Shape.Dims[(a + 1)..]]));
        }
        int rank = data.Dims.Length;
        int axis = (int)node.Int("axis", 0);
        if (axis < 0) axis += rank;
        var s = new Shape(data.Dims);
        int outer = s.Product(0, axis), axisSize = data.Dims[axis], inner = s.Product(axis + 1, rank);
        var index = indices.ToInt64Array();
        var result = new long[outer * index.Length * inner];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < index.Length; j++)
            {
                long k = index[j] < 0 ? index[j] + axisSize : index[j];
                if (k < 0 || k >= axisSize) throw new ArgumentException($"index {index[j]} is out of range for axis of size {axisSize}");
                Array.Copy(data.Integers!, (o * axisSize + k) * inner, result, (o * index.Length + j) * inner, inner);
            }
        int[] dims = [.. data.Dims[..axis], .. indices.Dims, .. data.Dims[(axis + 1)..]];
        return OnnxValue.FromIntegers(result, dims, data.ElementType);
    }

    /// <summary>Unsqueeze: axes (attribute before opset 13, input from 13 on) index the output's rank.</summary>
    private static OnnxValue Unsqueeze(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var x = Required(node, inputs, 0);
        var axes = node.Opset < 13 ? node.Ints("axes") ?? [] : Required(node, inputs, 1).ToInt64Array();
        int rank = x.Dims.Length + axes.Length;
        var inserted = axes.Select(a => (int)(a < 0 ? a + rank : a)).ToHashSet();
        var dims = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) dims[i] = inserted.Contains(i) ? 1 : x.Dims[j++];
        return Reshaped(tape, x, dims);
    }

    /// <summary>Squeeze: drops the listed size-1 axes (all of them when none are listed).</summary>
    private static OnnxValue Squeeze(Tape tape, OnnxNode node, IReadOnlyList<OnnxValue?> inputs)
    {
        var x = Required(node, inputs, 0);
        var axes = node.Opset < 13 ? node.Ints("axes") : Optional(inputs, 1)?.ToInt64Array();
        int rank = x.Dims.Length;
        var dropped = axes is null ? Enumerable.Range(0, rank).Where(i => x.Dims[i] == 1).ToHashSet() : axes.Select(a => (int)(a < 0 ? a + rank : a)).ToHashSet();
        return Reshaped(tape, x, Enumerable.Range(0, rank).Where(i => !dropped.Contains(i)).Select(i => x.Dims[i]).ToArray());
    }

    private static string Format(long[] values) => "[" + string.Join(", ", values) + "]";
}
