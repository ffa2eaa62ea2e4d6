using System.Runtime.CompilerServices;
using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Resize (opsets 10–19) and Upsample (opsets 7–9) as separable resampling: for each resized axis the weights
/// W [out, in] are built on the host from the attributes and the known scales or sizes (<see cref="ResizeWeights"/>), and
/// applied along that axis with tape ops — y = W·x as a matrix product, or, where every row of W picks one element
/// (nearest), as a repeat (Expand), a strided Slice or a Gather. Backward comes from those ops. The plan is kept on the
/// node while the input shape and the scales, sizes and roi stay the same.
/// </summary>
internal static class Resize
{
    public static readonly OnnxOperator ResizeOperator =
        OnnxOperator.Single("Resize", RunResize) with { SinceOpset = 10, MixesBatch = CropsAlongTheBatch };

    public static readonly OnnxOperator UpsampleOperator = OnnxOperator.Single("Upsample", RunUpsample) with { SinceOpset = 7 };

    /// <summary>tf_crop_and_resize on axis 0 samples a crop of the batch, whose size may stay the same.</summary>
    private static bool CropsAlongTheBatch(OnnxNode node, int rank) =>
        node.String("coordinate_transformation_mode", "") == "tf_crop_and_resize" && (node.Ints("axes") is not { } axes || axes.Any(a => a == 0 || a == -rank));

    private static OnnxValue RunResize(OnnxOperatorContext c)
    {
        // A warm pass (the same input shape and known inputs) runs the plan it made before: no attribute is parsed again.
        if (c.TryRecall(out ResizePlan recalled)) return Apply(c, recalled);
        var x = c.Input(0);
        var settings = c.Opset < 11 ? OldSettings(c) : Settings(c);
        float[]? scales, roi = null;
        long[]? sizes = null;
        if (c.Opset < 11) scales = c.KnownFloats(1);
        else
        {
            // From opset 11 on, scales, sizes and roi may be omitted or given empty.
            scales = Present(c, 2) ? c.KnownFloats(2) : null;
            sizes = Present(c, 3) ? c.KnownIntegers(3) : null;
            if (settings.Coordinates == ResizeCoordinates.TfCropAndResize && Present(c, 1)) roi = c.KnownFloats(1);
        }
        var axes = c.Opset >= 18 ? c.Node.Ints("axes") : null;
        var policy = c.Opset >= 18 ? c.Node.String("keep_aspect_ratio_policy", "stretch") : "stretch";
        return Run(c, settings, scales, sizes, roi, axes, policy);
    }

    private static OnnxValue RunUpsample(OnnxOperatorContext c)
    {
        if (c.TryRecall(out ResizePlan recalled)) return Apply(c, recalled);
        var scales = c.Opset < 9 ? c.Node.Floats("scales") ?? throw c.Invalid("scales is required") : c.KnownFloats(1);
        return Run(c, OldSettings(c), scales, null, null, null, "stretch");
    }

    private static bool Present(OnnxOperatorContext c, int index) => c.Has(index) && c.Input(index).Size > 0;

    /// <summary>
    /// Upsample and Resize-10: nearest or linear on asymmetric coordinates (x_original = o / scale) with nearest rounding
    /// down, as the ONNX version converter spells them for Resize-11.
    /// </summary>
    private static ResizeSettings OldSettings(OnnxOperatorContext c) => c.Node.String("mode", "nearest") switch
    {
        "nearest" => new(ResizeMode.Nearest, ResizeCoordinates.Asymmetric, NearestRounding.Floor),
        "linear" or "bilinear" => new(ResizeMode.Linear, ResizeCoordinates.Asymmetric),
        var other => throw c.Unsupported($"mode '{DisplayText.Quote(other)}' is not one of nearest, linear"),
    };

    /// <summary>Resize-11 and later: every attribute, with the schema's defaults.</summary>
    private static ResizeSettings Settings(OnnxOperatorContext c)
    {
        var node = c.Node;
        var mode = node.String("mode", "nearest") switch
        {
            "nearest" => ResizeMode.Nearest,
            "linear" => ResizeMode.Linear,
            "cubic" => ResizeMode.Cubic,
            var other => throw c.Unsupported($"mode '{DisplayText.Quote(other)}' is not one of nearest, linear, cubic"),
        };
        var coordinates = node.String("coordinate_transformation_mode", "half_pixel") switch
        {
            "half_pixel" => ResizeCoordinates.HalfPixel,
            "half_pixel_symmetric" => ResizeCoordinates.HalfPixelSymmetric,
            "pytorch_half_pixel" => ResizeCoordinates.PytorchHalfPixel,
            "align_corners" => ResizeCoordinates.AlignCorners,
            "asymmetric" => ResizeCoordinates.Asymmetric,
            "tf_half_pixel_for_nn" when c.Opset < 13 => ResizeCoordinates.TfHalfPixelForNn,
            "tf_crop_and_resize" => ResizeCoordinates.TfCropAndResize,
            var other => throw c.Unsupported($"coordinate_transformation_mode '{DisplayText.Quote(other)}' is not supported at opset {c.Opset}"),
        };
        var rounding = node.String("nearest_mode", "round_prefer_floor") switch
        {
            "round_prefer_floor" => NearestRounding.RoundPreferFloor,
            "round_prefer_ceil" => NearestRounding.RoundPreferCeil,
            "floor" => NearestRounding.Floor,
            "ceil" => NearestRounding.Ceil,
            var other => throw c.Unsupported($"nearest_mode '{DisplayText.Quote(other)}' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil"),
        };
        // antialias stretches the linear and cubic filters only; nearest ignores it.
        bool antialias = c.Opset >= 18 && node.Int("antialias", 0) != 0 && mode != ResizeMode.Nearest;
        return new ResizeSettings(mode, coordinates, rounding, node.Float("cubic_coeff_a", -0.75f), node.Int("exclude_outside", 0) != 0,
            antialias, node.Float("extrapolation_value", 0f));
    }

    private static OnnxValue Run(OnnxOperatorContext c, ResizeSettings settings, float[]? scales, long[]? sizes, float[]? roi, long[]? axes, string policy)
    {
        var x = c.Input(0);
        if (settings.Mode != ResizeMode.Nearest && !x.ElementType.IsFloatingPoint())
            throw c.Unsupported($"{settings.Mode.ToString().ToLowerInvariant()} resize of {x.ElementType.Spelling()} data (integer outputs would need rounding rules ONNX leaves open)");
        return Apply(c, c.Remember(ResizePlan.Build(c, settings, x.Dims, scales, sizes, roi, axes, policy)));
    }

    private static OnnxValue Apply(OnnxOperatorContext c, ResizePlan plan)
    {
        var y = c.Float(0);
        foreach (var step in plan.Steps) y = step.Apply(c.Tape, y);
        return OnnxOperatorContext.Result(y, c.Input(0).ElementType);
    }

    /// <summary>The per-axis steps of one Resize node for one input shape and one set of scales, sizes and roi.</summary>
    private sealed class ResizePlan
    {
        public AxisStep[] Steps { get; private init; } = [];

        public static ResizePlan Build(OnnxOperatorContext c, ResizeSettings settings, int[] dims, float[]? scales, long[]? sizes, float[]? roi, long[]? axes, string policy)
        {
            var resized = Axes(c, dims.Length, axes);
            var lengths = AxisLengths(c, settings, dims, resized, scales, sizes, roi, policy);
            // Shrinking axes first keeps the later products small; the result is the same in any order.
            var order = lengths.OrderBy(a => (double)a.Spec.OutputLength / Math.Max(1, a.Spec.InputLength)).ToList();
            var steps = new List<AxisStep>();
            var current = (int[])dims.Clone();
            foreach (var (axis, spec) in order)
            {
                if (AxisStep.For(axis, current, spec, settings) is { } step)
                {
                    // Two repeats in a row (nearest upsampling by whole factors) are one expand: one pass over the output.
                    if (step is RepeatStep second && steps.Count > 0 && steps[^1] is RepeatStep first)
                        steps[^1] = new RepeatAxesStep(first, second);
                    else steps.Add(step);
                }
                current[axis] = spec.OutputLength;
            }
            return new ResizePlan { Steps = [.. steps] };
        }

        /// <summary>The axes that scales, sizes and roi list (the axes attribute, negative ones counted from the end; else every axis).</summary>
        private static int[] Axes(OnnxOperatorContext c, int rank, long[]? axes)
        {
            if (axes is null) return [.. Enumerable.Range(0, rank)];
            var resized = axes.Select(a => (int)(a < 0 ? a + rank : a)).ToArray();
            if (resized.Any(a => a < 0 || a >= rank) || resized.Distinct().Count() != resized.Length)
                throw c.Invalid($"axes [{string.Join(", ", axes)}] are out of range or repeated for rank {rank}");
            return resized;
        }

        /// <summary>
        /// Each resized axis's lengths and scale. From scales: out = ⌊in·(end − start)·scale⌋ (roi only under
        /// tf_crop_and_resize). From sizes: out = sizes[i] and scale = out/in ("stretch"), or one scale s for every listed
        /// axis, the smallest ("not_larger") or largest ("not_smaller") of sizes[i]/in, and out = round_half_up(s·in).
        /// </summary>
        private static List<(int Axis, ResizeAxis Spec)> AxisLengths(OnnxOperatorContext c, ResizeSettings settings, int[] dims, int[] resized,
            float[]? scales, long[]? sizes, float[]? roi, string policy)
        {
            int k = resized.Length;
            if (scales is not null && sizes is not null) throw c.Invalid("only one of scales and sizes may be given");
            if (scales is null && sizes is null) throw c.Invalid("one of scales and sizes is required");
            if ((scales?.Length ?? sizes!.Length) != k) throw c.Invalid($"{(scales is null ? "sizes" : "scales")} has {scales?.Length ?? sizes!.Length} values for {k} axes");
            if (roi is not null && roi.Length != 2 * k) throw c.Invalid($"roi has {roi.Length} values for {k} axes (starts then ends)");
            var result = new List<(int, ResizeAxis)>();
            if (scales is not null)
            {
                for (int i = 0; i < k; i++)
                {
                    int n = dims[resized[i]];
                    double scale = scales[i], start = roi?[i] ?? 0, end = roi?[i + k] ?? 1;
                    if (!(scale > 0)) throw c.Invalid($"scale {scales[i]} must be positive");
                    double width = scale * n * (settings.Coordinates == ResizeCoordinates.TfCropAndResize ? end - start : 1);
                    result.Add((resized[i], new ResizeAxis(n, OutputLength(c, Math.Floor(width)), scale, width, start, end)));
                }
                return result;
            }
            double? common = policy switch
            {
                "stretch" => null,
                "not_larger" => Enumerable.Range(0, k).Min(i => (double)sizes![i] / dims[resized[i]]),
                "not_smaller" => Enumerable.Range(0, k).Max(i => (double)sizes![i] / dims[resized[i]]),
                _ => throw c.Unsupported($"keep_aspect_ratio_policy '{DisplayText.Quote(policy)}' is not one of stretch, not_larger, not_smaller"),
            };
            for (int i = 0; i < k; i++)
            {
                int n = dims[resized[i]];
                if (n == 0) throw c.Unsupported($"resizing the empty axis {resized[i]} to a size");
                double scale = common ?? (double)sizes![i] / n;
                long m = common is { } s ? (long)Math.Floor(s * n + 0.5) : sizes![i];
                result.Add((resized[i], new ResizeAxis(n, OutputLength(c, m), scale, scale * n, roi?[i] ?? 0, roi?[i + k] ?? 1)));
            }
            return result;
        }

        private static int OutputLength(OnnxOperatorContext c, double length) =>
            length is >= 1 and <= OnnxModel.MaxDimension ? (int)length : throw c.Unsupported($"an output length of {length} (NanoCam resizes to 1 … 2^24)");
    }

    /// <summary>One axis of the resize, applied on the tape.</summary>
    private abstract class AxisStep(int axis)
    {
        protected int Axis { get; } = axis;

        public abstract Tensor Apply(Tape tape, Tensor x);

        /// <summary>
        /// The cheapest step for one axis whose current dimensions are <paramref name="dims"/>: none when W is the identity,
        /// a repeat, slice or gather when every row of W holds a single 1, else the matrix product.
        /// </summary>
        public static AxisStep? For(int axis, int[] dims, ResizeAxis spec, ResizeSettings settings)
        {
            var (matrix, extrapolated) = ResizeWeights.For(spec, settings);
            int n = spec.InputLength, m = spec.OutputLength;
            var picked = extrapolated.Any(e => e) ? null : PickedIndices(matrix, m, n);
            if (picked is null) return new WeightsStep(axis, dims, matrix, extrapolated, settings.ExtrapolationValue, m, n);
            if (m == n && picked.Select((p, o) => p == o).All(same => same)) return null;
            if (m % n == 0 && picked.Select((p, o) => p == o / (m / n)).All(same => same)) return new RepeatStep(axis, m / n);
            int step = m > 1 ? picked[1] - picked[0] : 1;
            if (step != 0 && picked.Select((p, o) => p == picked[0] + step * o).All(same => same)) return new SliceStep(axis, picked[0], step, m);
            return new GatherStep(axis, picked);
        }

        /// <summary>The column of the single 1 in each row when W only picks elements, else null.</summary>
        private static int[]? PickedIndices(float[] matrix, int m, int n)
        {
            var picked = new int[m];
            for (int o = 0; o < m; o++)
            {
                picked[o] = -1;
                for (int i = 0; i < n; i++)
                {
                    float w = matrix[o * n + i];
                    if (w == 0) continue;
                    if (w != 1 || picked[o] >= 0) return null;
                    picked[o] = i;
                }
                if (picked[o] < 0) return null;
            }
            return picked;
        }

        // The last output dimensions worked out, with the input shape they were for (one object: replaced whole).
        private (Shape Input, int[] Dims)? _with;

        /// <summary><paramref name="shape"/> with axis <see cref="Axis"/> of <paramref name="length"/>, kept for the next pass with that shape.</summary>
        protected int[] With(Shape shape, int length)
        {
            if (_with is { } last && last.Input == shape && last.Dims[Axis] == length) return last.Dims;
            var dims = shape.ToArray();
            dims[Axis] = length;
            _with = (shape, dims);
            return dims;
        }
    }

    /// <summary>y = W·x along the axis (x seen as [outer, in, inner]), plus the extrapolation value on rows that sample outside.</summary>
    private sealed class WeightsStep : AxisStep
    {
        private readonly int _outputLength;
        private readonly bool _last;
        private readonly Tensor _weights;
        private readonly Tensor? _extrapolation;
        private readonly ConditionalWeakTable<IKernels, Tensor> _stagedWeights = [];
        private readonly ConditionalWeakTable<IKernels, Tensor> _stagedExtrapolation = [];

        public WeightsStep(int axis, int[] dims, float[] matrix, bool[] extrapolated, float value, int m, int n) : base(axis)
        {
            _outputLength = m;
            _last = axis == dims.Length - 1;
            _weights = Tensor.FromArray(matrix, m, n);
            // Rows outside the input are zero in W; their output is the extrapolation value, added as a column [m, 1].
            if (value != 0 && extrapolated.Any(e => e))
                _extrapolation = Tensor.FromArray(extrapolated.Select(e => e ? value : 0f).ToArray(), _last ? new[] { m } : new[] { m, 1 });
        }

        public override Tensor Apply(Tape tape, Tensor x)
        {
            var s = x.Shape;
            int outer = s.Product(0, Axis), n = s[Axis], inner = s.Product(Axis + 1, s.Rank);
            if (!_stagedWeights.TryGetValue(tape.Kernels, out var w)) w = _stagedWeights.GetValue(tape.Kernels, k => k.Stage(_weights));
            Tensor y = _last
                ? tape.MatMul(tape.Reshape(x, [outer, n]), w, transposeB: true)              // [outer, in]·Wᵀ = [outer, out]
                : outer == 1
                    ? tape.MatMul(w, tape.Reshape(x, [n, inner]))                            // W·[in, inner] = [out, inner]
                    : tape.BatchedMatMul(w, tape.Reshape(x, [outer, n, inner]));             // W·x_o for each o: [outer, out, inner]
            if (_extrapolation is not null)
                y = tape.Add(y, _stagedExtrapolation.TryGetValue(tape.Kernels, out var e) ? e : _stagedExtrapolation.GetValue(tape.Kernels, k => k.Stage(_extrapolation)));
            return tape.Reshape(y, With(s, _outputLength));
        }
    }

    /// <summary>Each element repeated <c>factor</c> times along the axis: x as [outer, in, 1, inner] expanded to [outer, in, factor, inner].</summary>
    private sealed class RepeatStep(int axis, int factor) : AxisStep(axis)
    {
        public int RepeatedAxis => Axis;

        public int Factor => factor;

        public override Tensor Apply(Tape tape, Tensor x)
        {
            var s = x.Shape;
            int outer = s.Product(0, Axis), n = s[Axis], inner = s.Product(Axis + 1, s.Rank);
            var repeated = tape.Expand(tape.Reshape(x, [outer, n, 1, inner]), [outer, n, factor, inner]);
            return tape.Reshape(repeated, With(s, n * factor));
        }
    }

    /// <summary>
    /// Two axes repeated at once: x with a 1 inserted after each repeated axis, expanded to the factors there
    /// ([N, C, H, 1, W, 1] → [N, C, H, fh, W, fw] for a nearest 2-D upsample), then seen at the resized shape. One remap
    /// writes the output, instead of a first repeat writing an intermediate that the second one reads.
    /// </summary>
    private sealed class RepeatAxesStep(RepeatStep first, RepeatStep second) : AxisStep(Math.Min(first.RepeatedAxis, second.RepeatedAxis))
    {
        // The dimensions worked out for the last input shape: with the 1s, expanded, and resized.
        private (Shape Input, int[] Inserted, int[] Expanded, int[] Output)? _dims;

        public override Tensor Apply(Tape tape, Tensor x)
        {
            if (_dims is not { } d || d.Input != x.Shape) _dims = d = Dims(x.Shape);
            return tape.Reshape(tape.Expand(tape.Reshape(x, d.Inserted), d.Expanded), d.Output);
        }

        private (Shape, int[], int[], int[]) Dims(Shape shape)
        {
            var inserted = new List<int>();
            var expanded = new List<int>();
            var output = shape.ToArray();
            for (int a = 0; a < shape.Rank; a++)
            {
                inserted.Add(shape[a]);
                expanded.Add(shape[a]);
                int factor = a == first.RepeatedAxis ? first.Factor : a == second.RepeatedAxis ? second.Factor : 1;
                if (factor == 1) continue;
                inserted.Add(1);
                expanded.Add(factor);
                output[a] *= factor;
            }
            return (shape, [.. inserted], [.. expanded], output);
        }
    }

    /// <summary>Every step-th element from start along the axis.</summary>
    private sealed class SliceStep(int axis, int start, int step, int count) : AxisStep(axis)
    {
        public override Tensor Apply(Tape tape, Tensor x)
        {
            int rank = x.Shape.Rank;
            Span<int> starts = stackalloc int[rank], steps = stackalloc int[rank], counts = stackalloc int[rank];
            steps.Fill(1);
            x.Shape.Dims.CopyTo(counts);
            (starts[Axis], steps[Axis], counts[Axis]) = (start, step, count);
            return tape.Slice(x, starts, steps, counts);
        }
    }

    /// <summary>The elements at the given indices along the axis.</summary>
    private sealed class GatherStep(int axis, int[] indices) : AxisStep(axis)
    {
        public override Tensor Apply(Tape tape, Tensor x) => tape.Gather(x, Axis, indices);
    }
}
