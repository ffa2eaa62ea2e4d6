using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// ConvTranspose over 1, 2 or 3 spatial axes (groups, strides, dilations, pads, output_padding, output_shape, auto_pad)
/// on the tape's 2-D transposed convolution: 1-D runs as 2-D with a height of 1; 3-D sums one 2-D transposed convolution
/// per depth tap of the kernel, each placed at its depth offset.
/// </summary>
internal static class ConvTranspose
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("ConvTranspose", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var x = c.Float(0);
        var w = c.Float(1);
        var bias = c.OptionalFloat(2);
        var tape = c.Tape;
        var axes = AxesOf(c, x.Shape, w.Shape);
        int groups = (int)c.Node.Int("group", 1);
        var y = axes.Length switch
        {
            1 => OneD(tape, x, w, bias, axes[0], groups),
            2 => TwoD(tape, x, w, bias, axes[0], axes[1], groups),
            _ => ThreeD(tape, x, w, bias, axes, groups),
        };
        return OnnxOperatorContext.Result(y);
    }

    /// <summary>
    /// One spatial axis of a transposed convolution. Scattering an input of length In through the kernel with the
    /// stride and dilation covers the "full" range of Full = stride·(In − 1) + dilation·(Kernel − 1) + 1 positions;
    /// output element r is full position r + PadBegin, and outputs outside the full range are zero (plus the bias).
    /// </summary>
    internal readonly record struct TransposedAxis(int Input, int Kernel, int Stride, int Dilation, int PadBegin, int Output)
    {
        public int Full => Stride * (Input - 1) + Dilation * (Kernel - 1) + 1;

        /// <summary>The full positions cropped at the start and end: the padding of the equivalent convolution.</summary>
        public int CropBegin => Math.Max(0, PadBegin);
        public int CropEnd => Math.Max(0, Full - PadBegin - Output);

        /// <summary>The length the tape's transposed convolution computes (the equivalent convolution's input length).</summary>
        public int Computed => Full - CropBegin - CropEnd;

        /// <summary>Zero outputs before and after the full range (a negative pad, or output_padding beyond the last tap).</summary>
        public int ZerosBefore => Math.Max(0, -PadBegin);
        public int ZerosAfter => Math.Max(0, PadBegin + Output - Full);

        /// <summary>An axis of length 1 that maps to itself (the height of a 1-D transposed convolution).</summary>
        public static TransposedAxis Unit => new(1, 1, 1, 1, 0, 1);
    }

    /// <summary>The node's axes for these input and weight shapes (kept on the node while the shapes stay).</summary>
    private sealed record AxesPlan(Shape Input, Shape Weight, TransposedAxis[] Axes);

    /// <summary>
    /// Each spatial axis's padding and output length, as the ONNX reference (onnx/reference/ops/op_conv_transpose.py) reads
    /// the attributes: with auto_pad SAME_UPPER or SAME_LOWER (and no pads) the output is output_shape or In·stride, and
    /// total = stride·(In − 1) + output_padding + dilation·(Kernel − 1) + 1 − output is split as ⌊total/2⌋ at the start
    /// (SAME_UPPER) or the end (SAME_LOWER); otherwise pads (default 0) apply and the output is output_shape, or
    /// stride·(In − 1) + output_padding + dilation·(Kernel − 1) + 1 − padBegin − padEnd.
    /// </summary>
    private static TransposedAxis[] AxesOf(OnnxOperatorContext c, Shape x, Shape w)
    {
        var node = c.Node;
        if (node.Plan is AxesPlan plan && plan.Input == x && plan.Weight == w) return plan.Axes;
        int spatial = x.Rank - 2;
        if (spatial is < 1 or > 3) throw c.Unsupported($"{spatial}-D spatial input {x} (1-D, 2-D and 3-D only)");
        if (w.Rank != x.Rank) throw c.Invalid($"weight {w} and input {x} differ in rank");
        int groups = (int)node.Int("group", 1);
        if (groups < 1 || w[0] != x[1] || x[1] % groups != 0)
            throw c.Invalid($"weight {w} must be [C, M/group, k…] for input {x} with group {groups}");
        var kernel = w.Dims[2..].ToArray();
        if (node.Ints("kernel_shape") is { } declared && !declared.Select(k => (int)k).SequenceEqual(kernel))
            throw c.Invalid($"kernel_shape [{string.Join(", ", declared)}] differs from the weight {w}");
        var strides = SpatialAttributes.IntsOr(node, "strides", spatial, 1);
        var dilations = SpatialAttributes.IntsOr(node, "dilations", spatial, 1);
        var outputPadding = SpatialAttributes.IntsOr(node, "output_padding", spatial, 0);
        var outputShape = node.Ints("output_shape") is { } shape ? shape.Skip(shape.Length - spatial).Select(v => checked((int)v)).ToArray() : null;
        if (outputShape is not null && outputShape.Length != spatial) throw c.Invalid($"output_shape has {outputShape.Length} values for {spatial} spatial axes");
        var autoPad = node.String("auto_pad", "NOTSET");
        var pads = node.Ints("pads");
        if (pads is not null && pads.Length != 2 * spatial) throw c.Invalid($"pads has {pads.Length} values for {spatial} spatial axes");
        var axes = new TransposedAxis[spatial];
        for (int i = 0; i < spatial; i++)
        {
            int input = x[2 + i], natural = strides[i] * (input - 1) + outputPadding[i] + dilations[i] * (kernel[i] - 1) + 1;
            int padBegin, output;
            if (autoPad is "SAME_UPPER" or "SAME_LOWER" && pads is null)
            {
                output = outputShape?[i] ?? input * strides[i];
                int total = natural - output, half = (int)Math.Floor(total / 2.0);
                padBegin = autoPad == "SAME_UPPER" ? half : total - half;
            }
            else if (autoPad is "NOTSET" or "" or "VALID" or "SAME_UPPER" or "SAME_LOWER")
            {
                bool explicitPads = pads is not null && autoPad != "VALID";
                padBegin = explicitPads ? checked((int)pads![i]) : 0;
                output = outputShape?[i] ?? natural - padBegin - (explicitPads ? checked((int)pads![i + spatial]) : 0);
            }
            else throw c.Invalid($"unknown auto_pad '{DisplayText.Quote(autoPad)}'");
            var axis = new TransposedAxis(input, kernel[i], strides[i], dilations[i], padBegin, output);
            if (strides[i] < 1 || dilations[i] < 1 || output < 1 || axis.Computed < 1)
                throw c.Invalid($"spatial axis {i}: stride {strides[i]}, dilation {dilations[i]} and padding {padBegin} give an output of {output} that misses every computed position");
            axes[i] = axis;
        }
        node.Plan = new AxesPlan(x, w, axes);
        return axes;
    }

    /// <summary>
    /// A 2-D transposed convolution: the tape op computes the full positions the output keeps (its geometry is that of
    /// the equivalent convolution, whose input is the computed [N, M, H, W] and whose padding crops the full range);
    /// outputs outside the full range are zero rows and columns padded on, with the bias added after.
    /// </summary>
    private static Tensor TwoD(Tape tape, Tensor x, Tensor w, Tensor? bias, TransposedAxis h, TransposedAxis v, int groups)
    {
        var g = new Conv2dGeometry(x.Shape[0], w.Shape[1] * groups, h.Computed, v.Computed, x.Shape[1], h.Kernel, v.Kernel,
            h.Stride, v.Stride, h.CropBegin, v.CropBegin, h.CropEnd, v.CropEnd, h.Dilation, v.Dilation, groups);
        bool padded = h.ZerosBefore + h.ZerosAfter + v.ZerosBefore + v.ZerosAfter > 0;
        var y = tape.ConvTranspose2d(x, w, padded ? null : bias, g);
        if (!padded) return y;
        y = tape.Pad(y, [0, 0, h.ZerosBefore, v.ZerosBefore], [0, 0, h.ZerosAfter, v.ZerosAfter], BorderMode.Constant);
        return bias is null ? y : tape.Add(y, tape.Reshape(bias, [bias.Shape[0], 1, 1]));
    }

    /// <summary>1-D as 2-D with a height of 1: x [N, C, L] as [N, C, 1, L], the weight [C, M/g, k] as [C, M/g, 1, k].</summary>
    private static Tensor OneD(Tape tape, Tensor x, Tensor w, Tensor? bias, TransposedAxis axis, int groups)
    {
        var x4 = tape.Reshape(x, [x.Shape[0], x.Shape[1], 1, x.Shape[2]]);
        var w4 = tape.Reshape(w, [w.Shape[0], w.Shape[1], 1, w.Shape[2]]);
        var y = TwoD(tape, x4, w4, bias, TransposedAxis.Unit, axis, groups);
        return tape.Reshape(y, [y.Shape[0], y.Shape[1], y.Shape[3]]);
    }

    /// <summary>
    /// 3-D as a sum over the kernel's depth taps kz: y[:, :, z·stride − padBegin + kz·dilation] += the 2-D transposed
    /// convolution of input depth slice z with W[:, :, kz]. Every depth slice runs at once (depth folded into the batch);
    /// each tap's result is spread to every stride-th depth (zeros between) and padded (or cropped) to its offset.
    /// </summary>
    private static Tensor ThreeD(Tape tape, Tensor x, Tensor w, Tensor? bias, TransposedAxis[] axes, int groups)
    {
        var (depth, h, v) = (axes[0], axes[1], axes[2]);
        int n = x.Shape[0], c = x.Shape[1], d = x.Shape[2], m = w.Shape[1] * groups;
        // [N, C, D, H, W] → [N·D, C, H, W]
        var slices = tape.Reshape(tape.Transpose(x, [0, 2, 1, 3, 4]), [n * d, c, x.Shape[3], x.Shape[4]]);
        Tensor? sum = null;
        for (int kz = 0; kz < depth.Kernel; kz++)
        {
            var (starts, steps, counts) = Slice.Whole(w.Shape.ToArray());
            (starts[2], counts[2]) = (kz, 1);
            var tap = tape.Reshape(tape.Slice(w, starts, steps, counts), [w.Shape[0], w.Shape[1], w.Shape[3], w.Shape[4]]);
            var planes = TwoD(tape, slices, tap, null, h, v, groups);          // [N·D, M, H', W']
            int rest = m * planes.Shape[2] * planes.Shape[3];
            var spread = tape.Reshape(planes, [n, d, 1, rest]);
            if (depth.Stride > 1)                                               // depth z at z·stride, zeros between
                spread = tape.Pad(spread, [0, 0, 0, 0], [0, 0, depth.Stride - 1, 0], BorderMode.Constant);
            spread = tape.Reshape(spread, [n, d * depth.Stride, rest]);
            // Output depth r is full position r + padBegin; this tap's slice z lands at full position z·stride + kz·dilation.
            int before = kz * depth.Dilation - depth.PadBegin;
            var placed = tape.Pad(spread, [0, before, 0], [0, depth.Output - before - d * depth.Stride, 0], BorderMode.Constant);
            sum = sum is null ? placed : tape.Add(sum, placed);
        }
        var y = tape.Transpose(tape.Reshape(sum!, [n, depth.Output, m, h.Output, v.Output]), [0, 2, 1, 3, 4]);
        return bias is null ? y : tape.Add(y, tape.Reshape(bias, [m, 1, 1, 1]));
    }
}
