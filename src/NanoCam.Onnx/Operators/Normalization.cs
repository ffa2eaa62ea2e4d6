using NanoCam.Autodiff;
using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// The normalizations by statistics of the input itself, y = γ·(x − μ)/√(σ² + ε) + β with μ and σ² the mean and the
/// (population) variance over a set of axes: LayerNormalization over the axes from axis on (Ba et al. 2016),
/// GroupNormalization over each group of channels and the spatial axes (Wu and He 2018), InstanceNormalization over
/// the spatial axes of each channel (Ulyanov et al. 2016). Composed of tape ops, so the backward pass is theirs; a fused
/// pass runs LayerNormalization as one kernel forward and backward where the backend has them (<see cref="ILayerNormKernels"/>).
/// </summary>
internal static class Normalization
{
    /// <summary>LayerNormalization (opset 17): outputs Y, Mean and InvStdDev, the statistics with the reduced axes kept as 1.</summary>
    public static readonly OnnxOperator LayerNormalization = new("LayerNormalization", RunLayer)
    {
        SinceOpset = 17,
        // Normalizing from axis 0 mixes every image of a batch into one mean.
        MixesBatch = (node, rank) => node.Int("axis", -1) is var axis && (axis < 0 ? axis + rank : axis) == 0,
    };

    /// <summary>GroupNormalization: γ and β per group before opset 21, per channel from 21 on.</summary>
    public static readonly OnnxOperator GroupNormalization = OnnxOperator.Single("GroupNormalization", RunGroup) with { SinceOpset = 18 };

    public static readonly OnnxOperator InstanceNormalization = OnnxOperator.Single("InstanceNormalization", RunInstance);

    /// <summary>
    /// (x − μ)·(1/√(σ² + ε)) over <paramref name="axes"/>, with μ and 1/√(σ² + ε) (the axes kept as size 1). Two passes:
    /// σ² is the mean of the centered squares (x − μ)², which has no cancellation, unlike E[x²] − μ².
    /// </summary>
    public static (Tensor Normalized, Tensor Mean, Tensor InvStdDev) Standardize(Tape tape, Tensor x, int[] axes, float epsilon)
    {
        var mean = tape.ReduceMean(x, axes, keepDims: true);
        var centered = tape.Sub(x, mean);
        var variance = tape.ReduceMean(tape.Unary(centered, new Square()), axes, keepDims: true);
        var invStdDev = tape.Unary(tape.Unary(tape.Unary(variance, new Shift(epsilon)), new Sqrt()), new Reciprocal());
        return (tape.Mul(centered, invStdDev), mean, invStdDev);
    }

    private static OnnxValue?[] RunLayer(OnnxOperatorContext c)
    {
        var tape = c.Tape;
        var x = c.Float(0);
        int rank = x.Shape.Rank;
        long axis = c.Node.Int("axis", -1);
        if (axis < -rank || axis >= rank) throw c.Invalid($"axis {axis} is out of range for {c.Input(0)}");
        int first = (int)(axis < 0 ? axis + rank : axis);
        var stash = StashType(c);
        if (Fused(c, x, first) is { } fused) return c.Triple(OnnxOperatorContext.Result(fused, c.Input(0).ElementType), null, null);
        if (!c.TryRecall(out int[] axes)) axes = c.Remember(Enumerable.Range(first, rank - first).ToArray());
        var (normalized, mean, invStdDev) = Standardize(tape, x, axes, Epsilon(c));
        // γ and β have the shape of the normalized axes (or one that broadcasts to it).
        var y = tape.Mul(normalized, c.Float(1));
        if (c.OptionalFloat(2) is { } bias) y = tape.Add(y, bias);
        return c.Triple(OnnxOperatorContext.Result(y, c.Input(0).ElementType), OnnxOperatorContext.Result(mean, stash), OnnxOperatorContext.Result(invStdDev, stash));
    }

    /// <summary>
    /// Y from the backend's one-kernel layer normalization (<see cref="TapeOps.LayerNorm"/>), in a pass that may fuse,
    /// when γ and β hold one value per normalized element and the node does not ask for Mean and InvStdDev; else null.
    /// </summary>
    private static Tensor? Fused(OnnxOperatorContext c, Tensor x, int first)
    {
        var tape = c.Tape;
        if (!c.Fuse || tape.Kernels is not ILayerNormKernels) return null;
        for (int o = 1; o < c.Node.Outputs.Count; o++)
            if (c.Node.Outputs[o].Length > 0) return null;
        int size = x.Shape.Product(first, x.Shape.Rank);
        var scale = c.Float(1);
        var bias = c.OptionalFloat(2);
        if (scale.Size != size || bias is not null && bias.Size != size) return null;
        return tape.LayerNorm(x, scale, bias, size, Epsilon(c));
    }

    private static OnnxValue RunGroup(OnnxOperatorContext c)
    {
        var tape = c.Tape;
        var x = c.Float(0);
        var dims = x.Shape.ToArray();
        if (dims.Length < 2) throw c.Invalid($"X must be [N, C, …], got {c.Input(0)}");
        int channels = dims[1], spatial = x.Shape.Product(2, dims.Length);
        long groups = c.Node.Int("num_groups", 0);
        if (groups < 1 || channels % groups != 0) throw c.Invalid($"num_groups {groups} does not divide the {channels} channels");
        StashType(c);
        var (scale, bias) = (c.Float(1), c.Float(2));
        // Before opset 21 γ and β hold one value per group, from 21 on one per channel.
        int perNode = c.Opset < 21 ? (int)groups : channels;
        if (scale.Size != perNode || bias.Size != perNode)
            throw c.Invalid($"scale {scale.Shape} and bias {bias.Shape} must hold {perNode} values (opset {c.Opset})");
        var grouped = tape.Reshape(x, [dims[0], (int)groups, channels / (int)groups * spatial]);
        var (normalized, _, _) = Standardize(tape, grouped, [2], Epsilon(c));
        var y = c.Opset < 21
            ? Affine(tape, normalized, scale, bias, (int)groups)
            : Affine(tape, tape.Reshape(normalized, [dims[0], channels, spatial]), scale, bias, channels);
        return OnnxOperatorContext.Result(tape.Reshape(y, dims), c.Input(0).ElementType);
    }

    private static OnnxValue RunInstance(OnnxOperatorContext c)
    {
        var tape = c.Tape;
        var x = c.Float(0);
        var (scale, bias) = (c.Float(1), c.Float(2));
        if (!c.TryRecall(out InstanceShapes shapes))
        {
            var dims = x.Shape.ToArray();
            if (dims.Length < 2) throw c.Invalid($"input must be [N, C, …], got {c.Input(0)}");
            int channels = dims[1];
            if (scale.Size != channels || bias.Size != channels)
                throw c.Invalid($"scale {scale.Shape} and B {bias.Shape} must hold one value per channel ({channels})");
            shapes = c.Remember(new InstanceShapes(dims, [dims[0], channels, x.Shape.Product(2, dims.Length)], [2], [channels, 1]));
        }
        var (normalized, _, _) = Standardize(tape, tape.Reshape(x, shapes.Planes), shapes.Axes, Epsilon(c));
        var affine = tape.Add(tape.Mul(normalized, tape.Reshape(scale, shapes.Column)), tape.Reshape(bias, shapes.Column));
        return OnnxOperatorContext.Result(tape.Reshape(affine, shapes.Dims), c.Input(0).ElementType);
    }

    /// <summary>InstanceNormalization's shapes, worked out once: the input's, [N, C, spatial], the reduced axis, and [C, 1] for γ and β.</summary>
    private sealed record InstanceShapes(int[] Dims, int[] Planes, int[] Axes, int[] Column);

    /// <summary>γ_k·x + β_k for x [N, K, M] and γ, β of K values each.</summary>
    private static Tensor Affine(Tape tape, Tensor x, Tensor scale, Tensor bias, int k) =>
        tape.Add(tape.Mul(x, tape.Reshape(scale, [k, 1])), tape.Reshape(bias, [k, 1]));

    private static float Epsilon(OnnxOperatorContext c) => c.Node.Float("epsilon", 1e-5f);

    /// <summary>
    /// The type of the statistics and of their computation (stash_type, default FLOAT). NanoCam computes in float32, as
    /// it holds DOUBLE; a narrower type would round the statistics, which is not implemented.
    /// </summary>
    private static OnnxDataType StashType(OnnxOperatorContext c)
    {
        var stash = (OnnxDataType)c.Node.Int("stash_type", (long)OnnxDataType.Float);
        return stash is OnnxDataType.Float or OnnxDataType.Double ? stash
            : throw c.Unsupported($"stash_type {stash.Spelling()} (NanoCam computes the statistics in FLOAT or DOUBLE only)");
    }
}
