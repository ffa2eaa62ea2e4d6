using System.Runtime.CompilerServices;
using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Onnx;

/// <summary>
/// What a no-grad pass may fuse, found once per model (<see cref="OnnxFusionPatterns"/>). Every Conv whose weight is an
/// initializer runs through <see cref="IKernels.Conv2dInference"/> with its weight prepared once
/// (<see cref="IKernels.PrepareConv2dWeight"/>, re-prepared when <see cref="OnnxModel.ParameterVersion"/> moves). Behind
/// it, in order, the plan may fold: an inference BatchNormalization that alone reads its output (into a folded copy of
/// the weight and bias), then the activation that alone reads the result (into the convolution's epilogue: Relu, Clip,
/// LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Mul(x, Sigmoid(x)), Mul(x, HardSigmoid(x))). A channel Concat whose
/// every input is such a chain's result, read by nothing else, has those convolutions write straight into its output.
/// A squeeze-excitation's Mul(scale, x), where x is such a chain's result read only by it and, before it, by the global
/// pool that starts the excitation, writes the product into x's own buffer (<see cref="InferenceScaleNode"/>): no copy of the map.
/// A pass fuses a tensor away only when the tape does not observe it (<see cref="Tape.IsObserved"/>: kept, hooked or a
/// gradient target), so any tensor name stays capturable: the chain stops folding at the first observed tensor.
/// </summary>
internal sealed class OnnxInferencePlan
{
    private readonly Dictionary<OnnxNode, ConvStep> _convs = [];
    // Each folded node (BN, activation, a gated activation's gate and Mul) with its step and stage (1-based).
    private readonly Dictionary<OnnxNode, (ConvStep Step, int Stage)> _stages = [];
    private readonly Dictionary<OnnxNode, ConcatStep> _concats = [];
    private readonly ConvStep[] _steps;
    private readonly ConcatStep[] _groups;
    // Squeeze-excitation Muls that may scale their map in place, by node.
    private readonly Dictionary<OnnxNode, ScaleStep> _scales = [];

    public OnnxInferencePlan(OnnxModel model)
    {
        var patterns = new OnnxFusionPatterns(model);
        var steps = new List<ConvStep>();
        foreach (var node in model.Nodes)
        {
            if (node.OpType != "Conv" || node.Inputs.Count < 2 || !model.Parameters.TryGetValue(node.Inputs[1], out var weight) || weight.Shape.Rank != 4)
                continue;
            int channels = weight.Shape[0];
            bool constantBias = node.Inputs.Count < 3 || node.Inputs[2].Length == 0 || model.Parameters.ContainsKey(node.Inputs[2]);
            var bn = constantBias ? patterns.BatchNormAfter(node.Outputs[0], channels) : null;
            var activation = patterns.ActivationAfter(bn?.Outputs[0] ?? node.Outputs[0]);
            var step = new ConvStep(node, bn, activation, steps.Count, channels);
            steps.Add(step);
            _convs[node] = step;
            if (bn is not null) _stages[bn] = (step, 1);
            if (activation is not null)
                foreach (var a in activation.Nodes) _stages[a] = (step, step.Stages.Count - 1);
        }
        var results = steps.ToDictionary(s => s.Result);
        var groups = new List<ConcatStep>();
        foreach (var node in model.Nodes)
        {
            if (node.OpType != "Concat" || node.Int("axis", 1) is not (1 or -3) || node.Inputs.Count < 2) continue;
            var members = node.Inputs.Select(i => results.GetValueOrDefault(i)).ToArray();
            if (members.Any(m => m is null) || node.Inputs.Any(i => patterns.OnlyReader(i) != node) || members.Distinct().Count() != members.Length) continue;
            var group = new ConcatStep(node, members!, groups.Count);
            for (int m = 0; m < group.Members.Length; m++) (group.Members[m].Group, group.Members[m].Offset) = (group, group.Members.Take(m).Sum(x => x.Channels));
            groups.Add(group);
            _concats[node] = group;
        }
        _steps = [.. steps];
        _groups = [.. groups];
        foreach (var node in model.Nodes)
        {
            // Mul(scale, x) or Mul(x, scale), x a convolution chain's result read by this Mul and, before it, by the
            // global pool that starts the excitation (a pool makes a new tensor: nothing views x after the Mul).
            if (node.OpType != "Mul" || node.Domain is not ("" or "ai.onnx") || node.Inputs.Count != 2 || node.Inputs[0] == node.Inputs[1]) continue;
            for (int side = 0; side < 2; side++)
            {
                if (!results.TryGetValue(node.Inputs[side], out var step) || step.Group is not null || patterns.Readers(step.Result) != 2) continue;
                var pool = model.Consumers(step.Result).FirstOrDefault(n => n != node);
                if (pool is not { OpType: "GlobalAveragePool" or "ReduceMean" or "GlobalMaxPool" or "ReduceMax", Domain: "" or "ai.onnx" } || pool.Index > node.Index) continue;
                _scales[node] = step.ScaledBy = new ScaleStep(node, step, side, _scales.Count);
                break;
            }
        }
        Summary = new OnnxFusionSummary(
            _steps.Length,
            _steps.Count(s => s.BatchNorm is not null),
            _steps.Where(s => s.Activation is not null).GroupBy(s => s.Activation!.Epilogue.Kind.ToString()).ToDictionary(g => g.Key, g => g.Count()),
            _groups.Length) { ScalesInPlace = _scales.Count };
    }

    /// <summary>Whether a pass may run <paramref name="node"/> through this plan (a conv, a folded stage, a concat, an in-place scale); fixed per model.</summary>
    internal bool Covers(OnnxNode node) => _convs.ContainsKey(node) || _stages.ContainsKey(node) || _concats.ContainsKey(node) || _scales.ContainsKey(node);

    /// <summary>What this plan may fold when nothing is observed.</summary>
    public OnnxFusionSummary Summary { get; }

    /// <summary>A Conv the plan runs, with the BatchNormalization and activation it may absorb and the concat it may write into.</summary>
    internal sealed class ConvStep
    {
        public ConvStep(OnnxNode conv, OnnxNode? batchNorm, ActivationMatch? activation, int index, int channels)
        {
            (Conv, BatchNorm, Activation, Index, Channels) = (conv, batchNorm, activation, index, channels);
            // The tensor each stage produces: [conv output, BN output?, activation output?].
            var stages = new List<string> { conv.Outputs[0] };
            if (batchNorm is not null) stages.Add(batchNorm.Outputs[0]);
            if (activation is not null) stages.Add(activation.Output);
            Stages = stages;
        }

        public OnnxNode Conv { get; }
        public OnnxNode? BatchNorm { get; }
        public ActivationMatch? Activation { get; }
        public int Index { get; }
        public int Channels { get; }
        public IReadOnlyList<string> Stages { get; }

        /// <summary>The tensor the whole chain produces.</summary>
        public string Result => Stages[^1];

        public ConcatStep? Group { get; set; }

        /// <summary>The squeeze-excitation Mul that may scale this chain's result in place, if any.</summary>
        public ScaleStep? ScaledBy { get; set; }
        public int Offset { get; set; }

        /// <summary>The patch layout of the last input geometry a patch embedding ran at (see <see cref="Patches"/>).</summary>
        public Patches.Layout? PatchLayout { get; set; }

        /// <summary>The last weight a patch embedding viewed as a 1×1 one, with that view.</summary>
        public (Tensor Source, Tensor View)? PatchWeight { get; set; }

        /// <summary>Prepared weights per backend (a model may run on several), with the parameter version they were made at.</summary>
        public ConditionalWeakTable<IKernels, PreparedEntry> Prepared { get; } = [];

        /// <summary>The BN-folded weight and bias per backend, with the parameter version they were folded at.</summary>
        public ConditionalWeakTable<IKernels, FoldedBatchNorm> Folded { get; } = [];
    }

    /// <summary>A channel Concat whose inputs are all plan steps.</summary>
    internal sealed class ConcatStep(OnnxNode concat, ConvStep[] members, int index)
    {
        public OnnxNode Concat { get; } = concat;
        public ConvStep[] Members { get; } = members;
        public int Index { get; } = index;
        public int Channels { get; } = members.Sum(m => m.Channels);
    }

    /// <summary>A squeeze-excitation Mul whose map (the result of <paramref name="Step"/>, operand <paramref name="MapSide"/>) it may scale in place.</summary>
    internal sealed record ScaleStep(OnnxNode Mul, ConvStep Step, int MapSide, int Index);

    internal sealed record PreparedEntry(Tensor Weight, int Version, Conv2dGeometry Geometry, PreparedConvWeight? Value);

    /// <summary>The per-pass state of passes on <paramref name="tape"/>, reused from pass to pass (see <see cref="Begin"/>).</summary>
    public Pass NewPass(Tape tape, OnnxModel model) => new(this, model, tape);

    /// <summary>The decisions of one pass: how far each chain folds, and which concats are written in place.</summary>
    public Pass Begin(Pass pass)
    {
        var tape = pass.Tape;
        pass.Clear();
        foreach (var step in _steps)
        {
            // A stage folds when the tensor before it (and a gated activation's gate) is not observed.
            int depth = 0;
            while (depth < step.Stages.Count - 1 && !tape.IsObserved(step.Stages[depth])
                && !(depth == step.Stages.Count - 2 && step.Activation is { Nodes.Length: 2 } gated && tape.IsObserved(gated.Nodes[0].Outputs[0])))
                depth++;
            pass.Depth[step.Index] = depth;
        }
        // A map is scaled in place only when the tape does not observe it (its values before the scale stay capturable).
        foreach (var scale in _scales.Values) pass.InPlace[scale.Index] = !tape.IsObserved(scale.Step.Result);
        foreach (var group in _groups)
        {
            bool direct = true;
            foreach (var m in group.Members) direct &= !tape.IsObserved(m.Result) && pass.Depth[m.Index] == m.Stages.Count - 1;
            pass.Direct[group.Index] = direct;
        }
        return pass;
    }

    /// <summary>One no-grad pass through the plan.</summary>
    internal sealed class Pass(OnnxInferencePlan plan, OnnxModel model, Tape tape)
    {
        /// <summary>How many stages after the Conv each step may fold (0: none; 1: its BN or its activation; 2: both).</summary>
        public readonly int[] Depth = new int[plan._steps.Length];
        public readonly bool[] Direct = new bool[plan._groups.Length];
        /// <summary>Which squeeze-excitation Muls may scale their map in place this pass.</summary>
        public readonly bool[] InPlace = new bool[plan._scales.Count];
        // The stages each step did fold (0 until its Conv ran through the plan).
        private readonly int[] _folded = new int[plan._steps.Length];
        private readonly bool[] _written = new bool[plan._steps.Length];
        // Whether each step's Conv ran through the plan this pass.
        private readonly bool[] _ran = new bool[plan._steps.Length];
        private readonly Tensor?[] _buffers = new Tensor?[plan._groups.Length];

        /// <summary>The tape this pass state belongs to.</summary>
        public Tape Tape => tape;

        /// <summary>Forgets the previous pass's decisions and results.</summary>
        public void Clear()
        {
            Array.Clear(Depth);
            Array.Clear(Direct);
            Array.Clear(InPlace);
            Array.Clear(_folded);
            Array.Clear(_written);
            Array.Clear(_ran);
            Array.Clear(_buffers);
        }

        /// <summary>
        /// Runs <paramref name="node"/> if the plan takes it: returns the (name, value) it produced, or (null, null) for
        /// a node fused away, or false when the node must run as usual. <paramref name="publish"/> is false for a map a
        /// squeeze-excitation will overwrite (read by the pass, but not published: its name would show the product).
        /// </summary>
        public bool TryRun(OnnxNode node, IReadOnlyList<OnnxValue?> args, out string? name, out OnnxValue? value, out bool publish)
        {
            (name, value) = (null, null);
            publish = true;
            if (plan._scales.TryGetValue(node, out var scale)) return InPlace[scale.Index] && Scale(scale, args, out name, out value);
            if (plan._stages.TryGetValue(node, out var stage)) return _folded[stage.Step.Index] >= stage.Stage;
            if (plan._concats.TryGetValue(node, out var group)) return _buffers[group.Index] is not null && Gather(group, args, out name, out value);
            if (!plan._convs.TryGetValue(node, out var step)) return false;
            if (!RunConv(step, args, out name, out value)) return false;
            publish = !(step.ScaledBy is { } scaled && InPlace[scaled.Index] && name == step.Result);
            return true;
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
            int depth = Depth[step.Index];
            if (step.BatchNorm is not null && depth >= 1 && g.OutputChannels == step.Channels)
                (w, bias) = FoldBatchNorm(step, w, bias);
            else if (step.BatchNorm is not null) depth = 0;
            // A patch embedding (kernel = stride, no padding) is a 1×1 convolution over its patches laid out as channels.
            if (Patches.Applies(g)) (x, w, g) = Patches.Of(tape, step, x, w, g);
            var epilogue = step.Activation is not null && depth == step.Stages.Count - 1 ? step.Activation.Epilogue : ConvEpilogue.None;
            var group = step.Group;
            bool direct = group is not null && Direct[group.Index] && depth == step.Stages.Count - 1 && g.OutputChannels == step.Channels;
            Tensor? shared = null;
            Span<int> dims = [g.Batch, g.OutputChannels, g.OutputHeight, g.OutputWidth];
            if (direct)
            {
                shared = _buffers[group!.Index];
                if (shared is not null && (shared.Shape[0] != g.Batch || shared.Shape[2] != g.OutputHeight || shared.Shape[3] != g.OutputWidth))
                    direct = false;
                else dims[1] = group.Channels;
            }
            if (!direct) shared = null;
            var output = tape.Next<InferenceConvNode>().Forward(tape, shared, dims, direct ? step.Offset : 0, x, w, bias, g, epilogue, Prepare(step, w, g));
            _folded[step.Index] = depth;
            _ran[step.Index] = true;
            if (direct)
            {
                _buffers[group!.Index] ??= output;
                _written[step.Index] = true;
                return true;
            }
            // The output is the last folded stage's tensor; the stages after it run as usual.
            (name, value) = (step.Stages[depth], OnnxValue.FromTensor(output));
            return true;
        }

        /// <summary>
        /// The convolution with its BatchNormalization folded in (Ioffe &amp; Szegedy 2015, eq. of the inference transform):
        /// with s_k = γ_k/√(σ²_k + ε), W'_k = s_k·W_k and b'_k = s_k·(b_k − μ_k) + β_k, so that
        /// BN(conv(x, W) + b) = conv(x, W') + b'. Computed in double from the model's parameters into copies, once per
        /// parameter version and backend; the parameters themselves are never written.
        /// </summary>
        private (Tensor Weight, Tensor Bias) FoldBatchNorm(ConvStep step, Tensor w, Tensor? bias)
        {
            int version = model.ParameterVersion;
            var kernels = tape.Kernels;
            lock (step.Folded)
            {
                if (step.Folded.TryGetValue(kernels, out var entry) && entry.Version == version && entry.Weight.Shape.Equals(w.Shape))
                    return (entry.Weight, entry.Bias);
                var bn = step.BatchNorm!;
                var p = model.Parameters;
                var weight = p[step.Conv.Inputs[1]].ToArray();
                var convBias = step.Conv.Inputs.Count > 2 && step.Conv.Inputs[2].Length > 0 ? p[step.Conv.Inputs[2]].ToArray() : null;
                var (gamma, beta, mean, variance) = (p[bn.Inputs[1]].ToArray(), p[bn.Inputs[2]].ToArray(), p[bn.Inputs[3]].ToArray(), p[bn.Inputs[4]].ToArray());
                double epsilon = bn.Float("epsilon", 1e-5f);
                int k = step.Channels, perChannel = weight.Length / k;
                var foldedBias = new float[k];
                for (int c = 0; c < k; c++)
                {
                    double s = gamma[c] / Math.Sqrt(variance[c] + epsilon);
                    for (int i = c * perChannel; i < (c + 1) * perChannel; i++) weight[i] = (float)(weight[i] * s);
                    foldedBias[c] = (float)(((convBias?[c] ?? 0.0) - mean[c]) * s + beta[c]);
                }
                var name = step.Conv.Inputs[1];
                // Marked a parameter (a constant the backend may prepare), under a name no graph tensor has.
                var staged = kernels.Stage(Tensor.FromArray(weight, w.Shape.ToArray()));
                var foldedWeight = new Tensor(staged.Shape, staged.Buffer) { Name = $"{name}+{bn.Name}", IsParameter = true };
                var foldedB = kernels.Stage(Tensor.FromArray(foldedBias, k));
                step.Folded.AddOrUpdate(kernels, new FoldedBatchNorm(foldedWeight, foldedB, version));
                return (foldedWeight, foldedB);
            }
        }

        /// <summary>
        /// The squeeze-excitation product written into the map's buffer, when the map is its convolution's own output
        /// this pass and the scale is [N, C, 1, 1] of the map's N and C; false (the Mul runs as usual) otherwise.
        /// </summary>
        private bool Scale(ScaleStep scale, IReadOnlyList<OnnxValue?> args, out string? name, out OnnxValue? value)
        {
            (name, value) = (null, null);
            var step = scale.Step;
            // Run through the plan in full, the chain's result is the convolution's own buffer (not a concat slice).
            if (!_ran[step.Index] || _folded[step.Index] != step.Stages.Count - 1 || _written[step.Index]) return false;
            if (args[scale.MapSide]?.Tensor is not { Shape.Rank: 4 } x || args[1 - scale.MapSide]?.Tensor is not { Shape.Rank: 4 } s) return false;
            if (s.Shape[0] != x.Shape[0] || s.Shape[1] != x.Shape[1] || s.Shape[2] != 1 || s.Shape[3] != 1) return false;
            var output = tape.Next<InferenceScaleNode>().Forward(tape, x, s, scaleFirst: scale.MapSide == 1);
            (name, value) = (scale.Mul.Outputs[0], OnnxValue.FromTensor(output));
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

/// <summary>
/// A patch embedding (ViT's 16×16 stride-16 convolution: kernel = stride, no padding, one group) as one GEMM: the input
/// [N, C, H, W] read as [N, C, OH, KH, OW, KW] and remapped to [N, C, KH, KW, OH, OW] (a transpose of KW against OW
/// per row of patches), which is [N, C·KH·KW, OH, OW]: the patches as channels, so that the convolution is a 1×1 one by
/// the weight viewed as [O, C·KH·KW, 1, 1] (the same memory, the same sums in the same order of terms per output).
/// Taken from KW = 8 on, where the remap moves whole 8×8 blocks; narrower patches stay with the convolution kernel.
/// </summary>
internal static class Patches
{
    /// <summary>A patch remap for one input geometry.</summary>
    internal sealed record Layout(Conv2dGeometry Geometry, RemapPlan Plan, Conv2dGeometry Pointwise);

    public static bool Applies(in Conv2dGeometry g) =>
        g.Groups == 1 && g.KernelWidth >= 8 && g.KernelHeight >= 1 && g.StrideHeight == g.KernelHeight && g.StrideWidth == g.KernelWidth
        && g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0 && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.OutputHeight > 0 && g.OutputWidth > 0;

    /// <summary>The patches of <paramref name="x"/> as channels, the weight as a 1×1 one, and their geometry.</summary>
    public static (Tensor Patches, Tensor Weight, Conv2dGeometry Geometry) Of(Tape tape, OnnxInferencePlan.ConvStep step, Tensor x, Tensor w, in Conv2dGeometry g)
    {
        var layout = step.PatchLayout;
        if (layout is null || layout.Geometry != g) step.PatchLayout = layout = LayoutOf(g);
        var remapped = tape.Remap(x, layout.Plan);
        var p = layout.Pointwise;
        var patches = tape.Reshape(remapped, [p.Batch, p.InputChannels, p.InputHeight, p.InputWidth]);
        return (patches, PointwiseWeight(step, w, p.InputChannels), p);
    }

    /// <summary>The remap that lays the patches out as channels, and the 1×1 geometry over them.</summary>
    internal static Layout LayoutOf(in Conv2dGeometry g)
    {
        var (h, w, kh, kw, oh, ow) = (g.InputHeight, g.InputWidth, g.KernelHeight, g.KernelWidth, g.OutputHeight, g.OutputWidth);
        int channels = g.InputChannels;
        // Output axes [N, C, KH, KW, OH, OW]: element (n, c, i, j, p, q) reads x[n, c, p·KH + i, q·KW + j].
        var plan = new RemapPlan(
        [
            new RemapAxis(g.Batch, g.Batch, channels * h * w, 0, 1, BorderMode.Constant),
            new RemapAxis(channels, channels, h * w, 0, 1, BorderMode.Constant),
            new RemapAxis(kh, kh, w, 0, 1, BorderMode.Constant),
            new RemapAxis(kw, kw, 1, 0, 1, BorderMode.Constant),
            new RemapAxis(oh, oh, kh * w, 0, 1, BorderMode.Constant),
            new RemapAxis(ow, ow, kw, 0, 1, BorderMode.Constant),
        ]);
        var pointwise = new Conv2dGeometry(g.Batch, channels * kh * kw, oh, ow, g.OutputChannels, 1, 1);
        return new Layout(g, plan, pointwise);
    }

    /// <summary>The weight [O, C, KH, KW] viewed as [O, C·KH·KW, 1, 1] (kept while the weight tensor is the same one, so its prepared form is too).</summary>
    private static Tensor PointwiseWeight(OnnxInferencePlan.ConvStep step, Tensor w, int depth)
    {
        if (step.PatchWeight is { } kept && ReferenceEquals(kept.Source, w)) return kept.View;
        var view = new Tensor(new Shape(w.Shape[0], depth, 1, 1), w.Buffer) { Name = w.Name, IsParameter = w.IsParameter };
        step.PatchWeight = (w, view);
        return view;
    }
}

/// <summary>A convolution's weight and bias with its BatchNormalization folded in, on one backend, at one parameter version.</summary>
internal sealed record FoldedBatchNorm(Tensor Weight, Tensor Bias, int Version);

/// <summary>
/// What an imported model's no-grad passes fold (when nothing is observed and fusing is on, <see cref="OnnxModel.Fuse"/>):
/// convolutions run with prepared weights, BatchNormalizations folded into the convolution before them, activations
/// fused into a convolution's epilogue (by kind: Relu, Clip, HardSwish, Silu, …), channel concats written in place, and
/// squeeze-excitation scales applied to their map in place.
/// </summary>
public sealed record OnnxFusionSummary(int Convolutions, int BatchNorms, IReadOnlyDictionary<string, int> Activations, int Concats)
{
    /// <summary>Squeeze-excitation Muls that scale their convolution's map in place (no copy of the map).</summary>
    public int ScalesInPlace { get; init; }

    /// <summary>Exported exact GELUs (Div → Erf → Add → Mul → Mul) run as one GELU node, in passes with gradients too.</summary>
    public int GeluChains { get; init; }

    /// <summary>All fused activations, whatever their kind.</summary>
    public int ActivationCount => Activations.Values.Sum();

    public override string ToString() =>
        $"{Convolutions} convolutions, {BatchNorms} BatchNormalizations folded, {ActivationCount} activations fused"
        + (Activations.Count == 0 ? "" : $" ({string.Join(", ", Activations.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} {a.Value}"))})")
        + $", {Concats} concats written in place"
        + (ScalesInPlace == 0 ? "" : $", {ScalesInPlace} squeeze-excitation scales in place")
        + (GeluChains == 0 ? "" : $", {GeluChains} GELU chains as one node");
}
