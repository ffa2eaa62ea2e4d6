using System.Runtime.CompilerServices;
using NanoCam.Autodiff;

namespace NanoCam.Onnx;

/// <summary>
/// What a no-grad pass may fuse, found once per model. Every Conv whose weight is an initializer runs through
/// <see cref="IKernels.Conv2dInference"/> with its weight prepared once (<see cref="IKernels.PrepareConv2dWeight"/>,
/// re-prepared when <see cref="OnnxModel.ParameterVersion"/> moves). A Relu that alone reads a Conv's output joins the
/// Conv's epilogue; a channel Concat whose every input is such a Conv's result, read by nothing else, has those
/// convolutions write straight into its output. A pass fuses a tensor away only when the tape does not observe it
/// (<see cref="Tape.IsObserved"/>: kept, hooked or a gradient target), so any tensor name stays capturable.
/// </summary>
internal sealed class OnnxInferencePlan
{
    private readonly Dictionary<OnnxNode, ConvStep> _convs = [];
    private readonly Dictionary<OnnxNode, ConvStep> _relus = [];
    private readonly Dictionary<OnnxNode, ConcatStep> _concats = [];
    private readonly ConvStep[] _steps;
    private readonly ConcatStep[] _groups;

    public OnnxInferencePlan(OnnxModel model)
    {
        var readers = new Dictionary<string, int>();
        foreach (var node in model.Nodes)
            foreach (var input in node.Inputs)
                if (input.Length > 0) readers[input] = readers.GetValueOrDefault(input) + 1;
        foreach (var output in model.OutputNames) readers[output] = readers.GetValueOrDefault(output) + 1;
        OnnxNode? OnlyReader(string name) =>
            readers.GetValueOrDefault(name) == 1 ? model.Nodes.FirstOrDefault(n => n.Inputs.Contains(name)) : null;

        var steps = new List<ConvStep>();
        foreach (var node in model.Nodes)
        {
            if (node.OpType != "Conv" || node.Inputs.Count < 2 || !model.Parameters.TryGetValue(node.Inputs[1], out var weight) || weight.Shape.Rank != 4)
                continue;
            var relu = OnlyReader(node.Outputs[0]) is { OpType: "Relu" } r ? r : null;
            var step = new ConvStep(node, relu, steps.Count, weight.Shape[0]);
            steps.Add(step);
            _convs[node] = step;
            if (relu is not null) _relus[relu] = step;
        }
        var results = steps.ToDictionary(s => s.Result);
        var groups = new List<ConcatStep>();
        foreach (var node in model.Nodes)
        {
            if (node.OpType != "Concat" || node.Int("axis", 1) is not (1 or -3) || node.Inputs.Count < 2) continue;
            var members = node.Inputs.Select(i => results.GetValueOrDefault(i)).ToArray();
            if (members.Any(m => m is null) || node.Inputs.Any(i => OnlyReader(i) != node) || members.Distinct().Count() != members.Length) continue;
            var group = new ConcatStep(node, members!, groups.Count);
            for (int m = 0; m < group.Members.Length; m++) (group.Members[m].Group, group.Members[m].Offset) = (group, group.Members.Take(m).Sum(x => x.Channels));
            groups.Add(group);
            _concats[node] = group;
        }
        _steps = [.. steps];
        _groups = [.. groups];
    }

    /// <summary>A Conv the plan runs, with the Relu it may absorb and the concat it may write into.</summary>
    internal sealed class ConvStep(OnnxNode conv, OnnxNode? relu, int index, int channels)
    {
        public OnnxNode Conv { get; } = conv;
        public OnnxNode? Relu { get; } = relu;
        public int Index { get; } = index;
        public int Channels { get; } = channels;

        /// <summary>The tensor the fused step produces: the Relu's output when there is one, else the Conv's.</summary>
        public string Result => Relu?.Outputs[0] ?? Conv.Outputs[0];

        public ConcatStep? Group { get; set; }
        public int Offset { get; set; }

        /// <summary>Prepared weights per backend (a model may run on several), with the parameter version they were made at.</summary>
        public ConditionalWeakTable<IKernels, PreparedEntry> Prepared { get; } = [];
    }

    /// <summary>A channel Concat whose inputs are all plan steps.</summary>
    internal sealed class ConcatStep(OnnxNode concat, ConvStep[] members, int index)
    {
        public OnnxNode Concat { get; } = concat;
        public ConvStep[] Members { get; } = members;
        public int Index { get; } = index;
        public int Channels => Members.Sum(m => m.Channels);
    }

    internal sealed record PreparedEntry(Tensor Weight, int Version, Conv2dGeometry Geometry, PreparedConvWeight? Value);

    /// <summary>The decisions of one pass: which Relus fold into their Conv and which concats are written in place.</summary>
    public Pass Begin(Tape tape, OnnxModel model)
    {
        var pass = new Pass(this, model, tape);
        foreach (var step in _steps)
            pass.FoldRelu[step.Index] = step.Relu is not null && !tape.IsObserved(step.Conv.Outputs[0]);
        foreach (var group in _groups)
            pass.Direct[group.Index] = group.Members.All(m => !tape.IsObserved(m.Result) && (m.Relu is null || pass.FoldRelu[m.Index]));
        return pass;
    }

    /// <summary>One no-grad pass through the plan.</summary>
    internal sealed class Pass(OnnxInferencePlan plan, OnnxModel model, Tape tape)
    {
        public readonly bool[] FoldRelu = new bool[plan._steps.Length];
        public readonly bool[] Direct = new bool[plan._groups.Length];
        private readonly bool[] _folded = new bool[plan._steps.Length];
        private readonly bool[] _written = new bool[plan._steps.Length];
        private readonly Tensor?[] _buffers = new Tensor?[plan._groups.Length];

        /// <summary>
        /// Runs <paramref name="node"/> if the plan takes it: returns the (name, value) it produced, or (null, null) for
        /// a node fused away, or false when the node must run as usual.
        /// </summary>
        public bool TryRun(OnnxNode node, IReadOnlyList<OnnxValue?> args, out string? name, out OnnxValue? value)
        {
            (name, value) = (null, null);
            if (plan._relus.TryGetValue(node, out var folded) && _folded[folded.Index]) return true;
            if (plan._concats.TryGetValue(node, out var group)) return _buffers[group.Index] is not null && Gather(group, args, out name, out value);
            if (!plan._convs.TryGetValue(node, out var step)) return false;
            return RunConv(step, args, out name, out value);
        }

        private bool RunConv(ConvStep step, IReadOnlyList<OnnxValue?> args, out string? name, out OnnxValue? value)
        {
            (name, value) = (null, null);
            if (args[0]?.Tensor is not { Shape.Rank: 4 } x || args[1]?.Tensor is not { } w) return false;
            var bias = args.Count > 2 ? args[2]?.Tensor : null;
            Conv2dGeometry g;
            try
            {
                if (Operators.Conv.GeometryOf(step.Conv, x, w) is not { } geometry) return false;
                g = geometry;
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"ONNX node {step.Conv.Name} (Conv, opset {step.Conv.Opset}): {ex.Message}", ex);
            }
            if (bias is not null && (bias.Shape.Rank != 1 || bias.Shape[0] != g.OutputChannels))
                throw new ArgumentException($"ONNX node {step.Conv.Name} (Conv, opset {step.Conv.Opset}): bias has shape {bias.Shape} but the weight {w.Shape} has {g.OutputChannels} output channels");
            bool relu = FoldRelu[step.Index];
            var group = step.Group;
            bool direct = group is not null && Direct[group.Index] && g.OutputChannels == step.Channels;
            Tensor? shared = null;
            int[] dims = [g.Batch, g.OutputChannels, g.OutputHeight, g.OutputWidth];
            if (direct)
            {
                shared = _buffers[group!.Index];
                if (shared is not null && (shared.Shape[0] != g.Batch || shared.Shape[2] != g.OutputHeight || shared.Shape[3] != g.OutputWidth))
                    direct = false;
                dims = [g.Batch, group.Channels, g.OutputHeight, g.OutputWidth];
            }
            if (!direct) (shared, dims) = (null, [g.Batch, g.OutputChannels, g.OutputHeight, g.OutputWidth]);
            var output = tape.Next<InferenceConvNode>().Forward(tape, shared, dims, direct ? step.Offset : 0, x, w, bias, g, relu, Prepare(step, w, g));
            _folded[step.Index] = relu;
            if (direct)
            {
                _buffers[group!.Index] ??= output;
                _written[step.Index] = true;
                return true;
            }
            // With its ReLU folded in, the output is the Relu's tensor; otherwise the Conv's, and the Relu runs as usual.
            (name, value) = (relu ? step.Result : step.Conv.Outputs[0], OnnxValue.FromTensor(output));
            return true;
        }

        /// <summary>The concat output the group's convolutions wrote into, with any input that ran on its own copied in.</summary>
        private bool Gather(ConcatStep group, IReadOnlyList<OnnxValue?> args, out string? name, out OnnxValue? value)
        {
            var output = _buffers[group.Index]!;
            foreach (var member in group.Members)
            {
                if (_written[member.Index]) continue;
                var t = args[Array.IndexOf(group.Members, member)]?.Tensor
                    ?? throw new InvalidOperationException($"concat {group.Concat.Name}: input {member.Result} was not computed");
                if (t.Shape.Rank != 4 || t.Shape[0] != output.Shape[0] || t.Shape[1] != member.Channels || t.Shape[2] != output.Shape[2] || t.Shape[3] != output.Shape[3])
                    throw new ArgumentException($"ONNX node {group.Concat.Name} (Concat): input {t.Shape} does not fit the output {output.Shape} along axis 1");
                tape.Kernels.ConcatForward(output, t, 1, member.Offset);
            }
            (name, value) = (group.Concat.Outputs[0], OnnxValue.FromTensor(output));
            return true;
        }

        private PreparedConvWeight? Prepare(ConvStep step, Tensor w, Conv2dGeometry g)
        {
            if (!w.IsParameter) return null;
            var key = g with { Batch = 1 };
            int version = model.ParameterVersion;
            if (step.Prepared.TryGetValue(tape.Kernels, out var entry) && ReferenceEquals(entry.Weight, w) && entry.Version == version && entry.Geometry == key)
                return entry.Value;
            var prepared = tape.Kernels.PrepareConv2dWeight(w, key);
            step.Prepared.AddOrUpdate(tape.Kernels, new PreparedEntry(w, version, key, prepared));
            return prepared;
        }
    }
}
