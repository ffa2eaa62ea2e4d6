using NanoCam.Autodiff;
using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>MaxPool, AveragePool and the global pools over any number of spatial axes, on NanoCam's 2-D pooling ops.</summary>
internal static class Pooling
{
    public static readonly OnnxOperator MaxPoolOperator = new("MaxPool", MaxPool);
    public static readonly OnnxOperator AveragePoolOperator = OnnxOperator.Single("AveragePool", AveragePool);
    public static readonly OnnxOperator GlobalAveragePoolOperator = OnnxOperator.Single("GlobalAveragePool", c => GlobalPool(c, average: true));
    public static readonly OnnxOperator GlobalMaxPoolOperator = OnnxOperator.Single("GlobalMaxPool", c => GlobalPool(c, average: false));

    /// <summary>One spatial axis of a pooling sweep, with auto_pad already resolved into explicit padding.</summary>
    private readonly record struct PoolAxis(int Size, int Kernel, int Stride, int Dilation, int PadBegin, int PadEnd)
    {
        /// <summary>An axis of size 1 pooled with a 1-wide window: what lifting 1-D input to 2-D adds.</summary>
        public static readonly PoolAxis Unit = new(1, 1, 1, 1, 0, 0);
    }

    private static PoolAxis[] PoolAxes(OnnxNode node, Tensor x)
    {
        int spatial = x.Shape.Rank - 2;
        if (spatial < 1) throw new ArgumentException($"input {x.Shape} has no spatial axis (expected [N, C, d1, …])");
        if (!node.HasAttribute("kernel_shape")) throw new ArgumentException("kernel_shape is required");
        var sizes = x.Shape.Dims[2..].ToArray();
        var kernel = SpatialAttributes.IntsOr(node, "kernel_shape", spatial, 1);
        var strides = SpatialAttributes.IntsOr(node, "strides", spatial, 1);
        var dilations = SpatialAttributes.IntsOr(node, "dilations", spatial, 1);
        var (begin, end) = SpatialAttributes.Padding(node, sizes, kernel, strides, dilations);
        var axes = new PoolAxis[spatial];
        for (int i = 0; i < spatial; i++) axes[i] = new PoolAxis(sizes[i], kernel[i], strides[i], dilations[i], begin[i], end[i]);
        return axes;
    }

    /// <summary>
    /// Pools [N, C, d1, …, dk] over its k spatial axes with NanoCam's 2-D pooling ops (so backward comes with them).
    /// A window is the product of one set of taps per axis, so both pools separate exactly:
    /// max over the window = max_a (max over the other axes), and the average's divisor (taps inside the input, or
    /// inside the padded input with count_include_pad) is the product of the per-axis counts, so
    /// mean over the window = mean_a (mean over the other axes). The last two axes are pooled as one 2-D sweep over
    /// [N, C·d1⋯d(k−2), d(k−1), dk]; each earlier axis a then as a (kernel_a × 1) sweep over [1, outer, d_a, inner].
    /// 1-D input is lifted to height 1. <paramref name="pool2d"/> runs one 2-D sweep.
    /// </summary>
    private static Tensor PoolSeparably(Tape tape, Tensor x, PoolAxis[] axes, bool ceil, Func<Tensor, Pool2dGeometry, Tensor> pool2d)
    {
        int batch = x.Shape[0], channels = x.Shape[1], spatial = axes.Length;
        if (spatial == 1) axes = [PoolAxis.Unit, axes[0]];
        int rank = axes.Length;
        var sizes = axes.Select(a => a.Size).ToArray();
        var (h, w) = (axes[rank - 2], axes[rank - 1]);
        var planes = x.Shape.Rank == 4 ? x : tape.Reshape(x, [batch, channels * Product(sizes, 0, rank - 2), h.Size, w.Size]);
        var g = Pool2dGeometry.For(planes.Shape, (h.Kernel, w.Kernel), (h.Stride, w.Stride),
            (h.PadBegin, w.PadBegin, h.PadEnd, w.PadEnd), (h.Dilation, w.Dilation), ceil);
        var y = pool2d(planes, g);
        sizes[rank - 2] = g.OutputHeight;
        sizes[rank - 1] = g.OutputWidth;
        for (int a = rank - 3; a >= 0; a--)
        {
            var axis = axes[a];
            var view = tape.Reshape(y, [1, batch * channels * Product(sizes, 0, a), axis.Size, Product(sizes, a + 1, rank)]);
            var ga = Pool2dGeometry.For(view.Shape, (axis.Kernel, 1), (axis.Stride, 1), (axis.PadBegin, 0, axis.PadEnd, 0), (axis.Dilation, 1), ceil);
            y = pool2d(view, ga);
            sizes[a] = ga.OutputHeight;
        }
        int[] output = spatial == 1 ? [batch, channels, sizes[1]] : [batch, channels, .. sizes];
        return y.Shape.Dims.SequenceEqual(output) ? y : tape.Reshape(y, output);
    }

    private static int Product(int[] values, int start, int end)
    {
        int product = 1;
        for (int i = start; i < end; i++) product *= values[i];
        return product;
    }

    /// <summary>
    /// MaxPool on float input, or on integer input whose values float32 holds exactly (|v| ≤ 2^24: UINT8, INT8, …),
    /// which is then exact, since the maximum is one of the inputs. The optional second output holds ONNX Indices
    /// (only computed when a node reads them: no classifier does): from the pooling's argmax with tape ops for 1-D and
    /// 2-D pooling, worked out on the host for 3-D and more.
    /// </summary>
    private static OnnxValue?[] MaxPool(OnnxOperatorContext c)
    {
        var tape = c.Tape;
        var node = c.Node;
        var value = c.Input(0);
        var x = c.Float(0);
        bool wantIndices = node.IsOutputUsed(1);
        if (!wantIndices && c.TryRecall(out Sweep sweep)) return c.Pair(OnnxOperatorContext.Result(tape.MaxPool2d(x, sweep.Geometry, keepIndices: false), value.ElementType), null);
        return MaxPoolSeparably(c, value, x, wantIndices);
    }

    // A method of its own: its lambda's closure would otherwise be allocated on every call of MaxPool.
    private static OnnxValue?[] MaxPoolSeparably(OnnxOperatorContext c, OnnxValue value, Tensor x, bool wantIndices)
    {
        var (tape, node) = (c.Tape, c.Node);
        var axes = PoolAxes(node, x);
        bool columnMajor = node.Int("storage_order", 0) != 0;
        var stages = new List<(Pool2dGeometry Geometry, Tensor Argmax)>();
        Pool2dGeometry last = default;
        var y = PoolSeparably(tape, x, axes, node.Int("ceil_mode", 0) != 0, (input, g) =>
        {
            var pooled = tape.MaxPool2d(input, g, keepIndices: wantIndices);
            if (wantIndices) stages.Add((g, ((MaxPool2dNode)tape.Nodes[tape.Count - 1]).Argmax!));
            last = g;
            return pooled;
        });
        // A 2-D pool is one sweep straight from x to y: the next pass with these shapes runs it alone.
        if (!wantIndices && x.Shape.Rank == 4) c.Remember(new Sweep(last));
        OnnxValue? indices = null;
        if (wantIndices)
            indices = stages.Count == 1 ? OnnxOperatorContext.Result(PlaneIndices(tape, stages[0].Geometry, stages[0].Argmax, y.Shape, columnMajor), OnnxDataType.Int64)
                : c.ShapeOnly ? OnnxOperatorContext.Result(tape.Kernels.Allocate(y.Shape), OnnxDataType.Int64)
                : OnnxValue.FromIntegers(Indices(stages.Select(s => (s.Geometry, s.Argmax.ToArray())).ToList(), axes, y.Shape.ToArray(), columnMajor), y.Shape.ToArray());
        return c.Pair(OnnxOperatorContext.Result(y, value.ElementType), indices);
    }

    /// <summary>The one 2-D sweep of a pool over [N, C, H, W].</summary>
    private sealed record Sweep(Pool2dGeometry Geometry);

    /// <summary>
    /// ONNX Indices of a one-sweep (1-D or 2-D) max pool, with tape ops: the flat offset of each maximum in the whole
    /// input, plane·H·W + a where a = y·W + x is the argmax within its plane; column-major (storage_order 1) it is
    /// plane·H·W + x·H + y, with y = ⌊a / W⌋ (exact: a &lt; 2^24 and W divide in float without crossing an integer).
    /// </summary>
    private static Tensor PlaneIndices(Tape tape, Pool2dGeometry g, Tensor argmax, Shape output, bool columnMajor)
    {
        int planes = g.Batch * g.Channels, height = g.InputHeight, width = g.InputWidth;
        var offsets = new float[planes];
        for (int p = 0; p < planes; p++) offsets[p] = (float)p * height * width;
        var planeStarts = tape.Kernels.Stage(Tensor.FromArray(offsets, planes, 1, 1, 1));
        var within = tape.Reshape(argmax, [planes, 1, g.OutputHeight, g.OutputWidth]);
        if (columnMajor)
        {
            var row = tape.Unary(tape.Binary(within, tape.Kernels.Stage(Tensor.Scalar(width)), new Divide()), new Floor());
            var column = tape.Sub(within, tape.Unary(row, new Scale(width)));
            within = tape.Add(tape.Unary(column, new Scale(height)), row);
        }
        return tape.Reshape(tape.Add(within, planeStarts), output.Dims);
    }

    /// <summary>
    /// ONNX MaxPool Indices: the flat offset of each maximum in the whole input tensor, the spatial part row-major
    /// (storage_order 0) or column-major (1). The first sweep's argmax is an offset y·W + x within one plane of the last
    /// two axes; each later sweep along axis a picks, per output, the input row along a whose offset it keeps.
    /// </summary>
    private static long[] Indices(List<(Pool2dGeometry Geometry, float[] Argmax)> stages, PoolAxis[] axes, int[] outputDims, bool columnMajor)
    {
        var first = stages[0];
        int plane = first.Geometry.InputHeight * first.Geometry.InputWidth, outPlane = first.Geometry.OutputHeight * first.Geometry.OutputWidth;
        int leadingCount = first.Geometry.Batch * first.Geometry.Channels / (outputDims[0] * outputDims[1]);
        // offset[i]: the maximum's row-major offset within the spatial volume d1⋯dk of its (n, c).
        var offset = new long[first.Argmax.Length];
        for (int i = 0; i < offset.Length; i++)
            offset[i] = (long)(i / outPlane % leadingCount) * plane + (long)first.Argmax[i];
        foreach (var (g, argmax) in stages.Skip(1))
        {
            int inner = g.InputWidth, rowsIn = g.InputHeight, rowsOut = g.OutputHeight;
            var next = new long[argmax.Length];
            for (int i = 0; i < next.Length; i++)
            {
                int outer = i / (rowsOut * inner), column = i % inner;
                int row = (int)argmax[i] / inner;
                next[i] = offset[((long)outer * rowsIn + row) * inner + column];
            }
            offset = next;
        }
        var sizes = axes.Select(a => (long)a.Size).ToArray();
        long volume = sizes.Aggregate(1L, (p, s) => p * s);
        int perPlane = offset.Length / (outputDims[0] * outputDims[1]);
        var result = new long[offset.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = i / perPlane * volume + (columnMajor ? ColumnMajor(offset[i], sizes) : offset[i]);
        return result;
    }

    /// <summary>A row-major offset within a volume of the given sizes, re-expressed column-major (first axis fastest).</summary>
    private static long ColumnMajor(long rowMajor, long[] sizes)
    {
        long result = 0, stride = 1;
        var coordinates = new long[sizes.Length];
        for (int i = sizes.Length - 1; i >= 0; i--) { coordinates[i] = rowMajor % sizes[i]; rowMajor /= sizes[i]; }
        for (int i = 0; i < sizes.Length; i++) { result += coordinates[i] * stride; stride *= sizes[i]; }
        return result;
    }

    private static OnnxValue AveragePool(OnnxOperatorContext c)
    {
        var (tape, node, x) = (c.Tape, c.Node, c.Float(0));
        bool countIncludePad = node.Int("count_include_pad", 0) != 0;
        if (c.TryRecall(out Sweep sweep)) return OnnxValue.FromTensor(tape.AvgPool2d(x, sweep.Geometry, countIncludePad));
        return AveragePoolSeparably(c, x, countIncludePad);
    }

    // A method of its own: its lambda's closure would otherwise be allocated on every call of AveragePool.
    private static OnnxValue AveragePoolSeparably(OnnxOperatorContext c, Tensor x, bool countIncludePad)
    {
        var (tape, node) = (c.Tape, c.Node);
        Pool2dGeometry last = default;
        var y = PoolSeparably(tape, x, PoolAxes(node, x), node.Int("ceil_mode", 0) != 0,
            (input, g) =>
            {
                last = g;
                return tape.AvgPool2d(input, g, countIncludePad);
            });
        if (x.Shape.Rank == 4) c.Remember(new Sweep(last));
        return OnnxValue.FromTensor(y);
    }

    /// <summary>Global pools over every spatial axis: [N, C, d1, …] is seen as [N, C, d1⋯dk, 1]; the output is [N, C, 1, …, 1].</summary>
    private static OnnxValue GlobalPool(OnnxOperatorContext c, bool average)
    {
        var (tape, x) = (c.Tape, c.Float(0));
        int rank = x.Shape.Rank;
        if (rank < 3) throw new ArgumentException($"input {x.Shape} has no spatial axis (expected [N, C, d1, …])");
        var x4 = rank == 4 ? x : tape.Reshape(x, [x.Shape[0], x.Shape[1], x.Shape.Product(2, rank), 1]);
        var y = average ? tape.GlobalAvgPool(x4, keepSpatial: true) : tape.GlobalMaxPool(x4);
        if (rank == 4) return OnnxValue.FromTensor(y);
        var dims = Enumerable.Repeat(1, rank).ToArray();
        (dims[0], dims[1]) = (x.Shape[0], x.Shape[1]);
        return OnnxValue.FromTensor(tape.Reshape(y, dims));
    }
}
