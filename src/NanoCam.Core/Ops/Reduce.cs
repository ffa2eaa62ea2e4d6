using NanoCam.Autodiff;
using NanoCam.Elementwise;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>
    /// Sum (times <paramref name="scale"/>), max or min over <paramref name="axes"/> (negative ones count from the end;
    /// empty: every axis), keeping them as size-1 axes when <paramref name="keepDims"/> (ONNX ReduceSum/Max/Min).
    /// Adjacent reduced axes are merged and each run is reduced by one kernel call, innermost first: sums, maxima and
    /// minima separate exactly over such runs.
    /// </summary>
    public static Tensor Reduce(this Tape tape, ReduceKind kind, Tensor x, ReadOnlySpan<int> axes, bool keepDims, float scale = 1f)
    {
        int rank = x.Shape.Rank;
        if (rank > 64) throw new ArgumentException($"reduce: {x.Shape} has more than 64 axes");
        ulong reduced = 0;
        foreach (int axis in axes)
        {
            int a = axis < 0 ? axis + rank : axis;
            if ((uint)a >= (uint)rank) throw new ArgumentException($"reduce: axis {axis} is out of range for {x.Shape}");
            if ((reduced & (1UL << a)) != 0) throw new ArgumentException($"reduce: axis {axis} appears twice in {Format(axes)}");
            reduced |= 1UL << a;
        }
        if (axes.IsEmpty) reduced = rank == 64 ? ulong.MaxValue : (1UL << rank) - 1;
        return tape.Next<ReduceNode>().Forward(tape, kind, x, reduced, keepDims, scale);
    }

    /// <summary>The mean over <paramref name="axes"/>: a sum scaled by 1/(number of elements reduced) (ONNX ReduceMean).</summary>
    public static Tensor ReduceMean(this Tape tape, Tensor x, ReadOnlySpan<int> axes, bool keepDims)
    {
        long count = 1;
        if (axes.IsEmpty) count = x.Size;
        else foreach (int axis in axes) count *= x.Shape[x.Shape.Axis(axis)];
        return tape.Reduce(ReduceKind.Sum, x, axes, keepDims, count == 0 ? float.NaN : 1f / count);
    }
}

/// <summary>
/// A reduction over a set of axes as a chain of single-axis reductions (one per run of adjacent reduced axes, innermost
/// first), through buffers the node keeps. Backward: a sum broadcasts the gradient back along the chain; a max or min
/// over one run uses the kernel's tie split, over several runs it splits dy evenly among every element equal to the
/// result: dx += [x = y]·dy / Σ[x = y] (the sum over the reduced axes), as PyTorch's amax/amin.
/// </summary>
public sealed class ReduceNode : Node
{
    private static readonly string[] KindNames = ["ReduceSum", "ReduceMax", "ReduceMin"];

    // The chain for the last input shape and axis set: per stage (outer, size, inner) and its output buffer.
    private int[] _inputDims = [];
    private ulong _reduced;
    private bool _keepDims;
    private int[] _outputDims = [];
    private Shape _keptShape = new();
    private (int Outer, int Size, int Inner)[] _stages = [];
    private Tensor[] _stageOutputs = [];
    private Tensor[] _stageGradients = [];
    // Multi-run max/min backward: the mask [x = y], the tie counts, and y and dy seen with the kept shape.
    private Tensor? _mask, _counts, _outputKept, _gradientKept;
    private IKernels? _planKernels;

    public override string Kind => KindNames[(int)Function];
    public ReduceKind Function { get; private set; }
    public float Scale { get; private set; }
    public Tensor Input => Inputs[0];

    internal Tensor Forward(Tape tape, ReduceKind kind, Tensor input, ulong reduced, bool keepDims, float scale)
    {
        Function = kind;
        Scale = scale;
        SetInputs(input);
        if (!input.Shape.Dims.SequenceEqual(_inputDims) || reduced != _reduced || keepDims != _keepDims || !ReferenceEquals(_planKernels, tape.Kernels))
            Plan(tape.Kernels, input.Shape, reduced, keepDims);
        var output = EnsureOutput(tape, _outputDims);
        var k = tape.Kernels;
        var source = input;
        for (int s = 0; s < _stages.Length; s++)
        {
            var (outer, size, inner) = _stages[s];
            bool last = s == _stages.Length - 1;
            var target = last ? output : _stageOutputs[s];
            k.ReduceForward(kind, target, source, outer, size, inner, last ? scale : 1f);
            source = target;
        }
        return output;
    }

    /// <summary>Splits the reduced axes into runs and sizes every stage's buffer (only when the shape or the axes change).</summary>
    private void Plan(IKernels kernels, Shape shape, ulong reduced, bool keepDims)
    {
        _planKernels = kernels;
        _inputDims = shape.ToArray();
        _reduced = reduced;
        _keepDims = keepDims;
        int rank = shape.Rank;
        var dims = shape.ToArray();
        var kept = new int[rank];
        var outputDims = new List<int>();
        for (int a = 0; a < rank; a++)
        {
            bool r = (reduced & (1UL << a)) != 0;
            kept[a] = r ? 1 : dims[a];
            if (!r) outputDims.Add(dims[a]);
            else if (keepDims) outputDims.Add(1);
        }
        _outputDims = [.. outputDims];
        _keptShape = new Shape(kept);
        // Runs of adjacent reduced axes, innermost first; axes of size 1 reduce to themselves and are skipped.
        var stages = new List<(int, int, int)>();
        for (int end = rank; end > 0;)
        {
            int a = end - 1;
            if ((reduced & (1UL << a)) == 0 || dims[a] == 1) { end--; continue; }
            int start = a;
            while (start > 0 && (reduced & (1UL << (start - 1))) != 0) start--;
            int outer = 1, size = 1, inner = 1;
            for (int i = 0; i < start; i++) outer *= dims[i];
            for (int i = start; i < end; i++) size *= dims[i];
            for (int i = end; i < rank; i++) inner *= dims[i];
            stages.Add((outer, size, inner));
            for (int i = start; i < end; i++) dims[i] = 1;
            end = start;
        }
        // Nothing to reduce: one size-1 stage copies (and scales) the input.
        if (stages.Count == 0) stages.Add((1, 1, shape.Size));
        _stages = [.. stages];
        _stageOutputs = new Tensor[_stages.Length - 1];
        _stageGradients = new Tensor[_stages.Length - 1];
        for (int s = 0; s < _stageOutputs.Length; s++)
        {
            var stageShape = new Shape(_stages[s].Outer * _stages[s].Inner);
            _stageOutputs[s] = kernels.Allocate(stageShape);
            _stageGradients[s] = kernels.Allocate(stageShape);
        }
        _mask = _counts = _outputKept = _gradientKept = null;
    }

    public override void Backward(IKernels kernels)
    {
        if (GradOf(Input) is not { } dInput) return;
        var dOutput = Output.Grad!;
        if (_stages.Length == 1)
        {
            var (outer, size, inner) = _stages[0];
            kernels.ReduceBackward(Function, dInput, dOutput, Input, Output, outer, size, inner, Scale);
        }
        else if (Function == ReduceKind.Sum) SumBackward(kernels, dInput, dOutput);
        else TiesBackward(kernels, dInput, dOutput);
    }

    private ConstantCache? _scale; // made by the taped rule only: first-order passes never allocate it

    /// <summary>
    /// Taped, sums only: dy seen with the kept shape (reduced axes of size 1), broadcast against a constant that has the
    /// reduced axes' sizes (and 1 elsewhere) filled with the scale.
    /// </summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        if (Function != ReduceKind.Sum) throw new NotSupportedException($"second-order gradients: {Kind} has no taped backward rule (ReduceSum has)");
        if (!WantsGradient(tape, Input)) return TapedGradients(null);
        Span<int> dims = stackalloc int[Input.Shape.Rank];
        Input.Shape.Dims.CopyTo(dims);
        for (int a = 0; a < dims.Length; a++)
            if ((_reduced & (1UL << a)) == 0) dims[a] = 1;
        return TapedGradients(tape.Mul(tape.Reshape(gradOutput, _keptShape.Dims), (_scale ??= new()).Filled(tape.Kernels, dims, Scale)));
    }

    /// <summary>Back along the chain: each stage broadcasts its gradient over the run it reduced (∂Σ/∂x_j = 1).</summary>
    private void SumBackward(IKernels kernels, Tensor dInput, Tensor dOutput)
    {
        var gradient = dOutput;
        for (int s = _stages.Length - 1; s >= 0; s--)
        {
            var (outer, size, inner) = _stages[s];
            var target = s == 0 ? dInput : _stageGradients[s - 1];
            if (s > 0) kernels.Fill(target, 0f);
            var stageInput = s == 0 ? Input : _stageOutputs[s - 1];
            var stageOutput = s == _stages.Length - 1 ? Output : _stageOutputs[s];
            kernels.ReduceBackward(ReduceKind.Sum, target, gradient, stageInput, stageOutput, outer, size, inner, s == _stages.Length - 1 ? Scale : 1f);
            gradient = target;
        }
    }

    /// <summary>dx += [x = y] · dy / Σ_reduced [x = y]: the tied extremes of all runs share dy evenly.</summary>
    private void TiesBackward(IKernels kernels, Tensor dInput, Tensor dOutput)
    {
        _mask ??= kernels.Allocate(Input.Shape);
        _counts ??= kernels.Allocate(_keptShape);
        if (_outputKept is null || !ReferenceEquals(_outputKept.Buffer, Output.Buffer)) _outputKept = new Tensor(_keptShape, Output.Buffer);
        if (_gradientKept is null || !ReferenceEquals(_gradientKept.Buffer, dOutput.Buffer)) _gradientKept = new Tensor(_keptShape, dOutput.Buffer);
        kernels.BinaryForward(_mask, Input, _outputKept, default(Equal));
        // Σ over the reduced runs of the mask, through the forward chain's buffers (no longer needed after forward).
        var source = _mask;
        for (int s = 0; s < _stages.Length; s++)
        {
            var (outer, size, inner) = _stages[s];
            var target = s == _stages.Length - 1 ? _counts : _stageOutputs[s];
            kernels.ReduceForward(ReduceKind.Sum, target, source, outer, size, inner, 1f);
            source = target;
        }
        kernels.BinaryForward(_counts, _gradientKept, _counts, default(Divide));   // dy / count
        kernels.BinaryForward(_mask, _mask, _counts, default(Multiply));           // [x = y] · dy / count
        kernels.AddScaled(dInput, _mask, 1f);
    }
}
