using NanoCam.Autodiff;

namespace NanoCam.Explain;

/// <summary>
/// Runs CAM-family explanations of an <see cref="IExplainable"/> model on one backend: registers a capture at the
/// target layer, runs forward, seeds ∂L/∂y with the target (L = y^c), runs backward to the layer, reads A and
/// ∂y^c/∂A, lets the method weigh the channels, then the shared tail: ReLU, bilinear upsampling, min–max normalization.
/// </summary>
public sealed class CamExplainer(IExplainable model, IKernels kernels)
{
    /// <summary>The name of the input in a capture made by <see cref="CaptureAtInput"/>.</summary>
    public const string InputLayer = "input";

    public IExplainable Model { get; } = model;
    public IKernels Kernels { get; } = kernels;

    /// <summary>
    /// Whether a layer of tokens [N, T, D] (a vision transformer's) is captured laid out on its square grid as
    /// [N, D, h, w], the class token dropped when T − 1 is a square (pytorch-grad-cam's reshape_transform).
    /// </summary>
    public bool ReshapeTokens { get; set; }

    /// <summary>Warnings raised by the last call (flat maps, …).</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>
    /// The default <see cref="PassMemoryBudget"/>, 256 MiB: a batch of 16 images of 224×224 through a small VGG in one
    /// pass. Commands that stream a data set through thousands of passes set a smaller one.
    /// </summary>
    public const long DefaultPassMemoryBudget = 256L << 20;

    /// <summary>
    /// The most memory the tensors of one pass may take: a batch whose activations (and, in a pass with a backward pass,
    /// their gradients) would take more runs in chunks, with the same results. What one image's activations take is
    /// measured once per image size (<see cref="ActivationBytesPerImage"/>); its gradients are counted as much again until
    /// a backward pass to the same layers has shown what they take.
    /// </summary>
    public long PassMemoryBudget { get; set; } = DefaultPassMemoryBudget;

    /// <summary>
    /// The most images [C, H, W] one pass takes: as many as fit <see cref="PassMemoryBudget"/>, at least 1, at most
    /// <see cref="IExplainable.MaxBatch"/>. A pass with gradients counts them as large as the activations (the most a
    /// backward pass to the input makes).
    /// </summary>
    public int ImagesPerPass(int channels, int height, int width, bool withGradients) =>
        ImagesPerPass(channels, height, width, withGradients ? InputLayer : null);

    /// <summary>
    /// <see cref="ImagesPerPass(int, int, int, bool)"/> for a pass that differentiates down to what
    /// <paramref name="gradientKey"/> names (null: no backward pass), with the gradient bytes seen on such a pass.
    /// </summary>
    private int ImagesPerPass(int channels, int height, int width, string? gradientKey)
    {
        int most = Math.Max(1, Model.MaxBatch);
        if (most == 1) return 1;
        long activations = ActivationBytesPerImage(channels, height, width);
        long gradients = gradientKey is null ? 0 : _gradientBytesPerImage.GetValueOrDefault(gradientKey, activations);
        return (int)Math.Clamp(PassMemoryBudget / Math.Max(1, activations + gradients), 1, most);
    }

    // Bytes per image of the gradients a backward pass made, by what it differentiated (its layers, or the input): a
    // pass to the last layer makes a few, one to the input as many as the activations.
    private readonly Dictionary<string, long> _gradientBytesPerImage = [];

    /// <summary>The key under which the gradient bytes of a pass to <paramref name="layers"/> (or the input) are kept.</summary>
    private static string GradientKey(string[] layers, bool atInput) => atInput ? InputLayer : string.Join('\n', layers);

    // What one blank image's forward pass left on the tape, for the image size it was measured at.
    private (int Channels, int Height, int Width, long Bytes)? _measuredImage;

    /// <summary>
    /// Bytes the tensors of a forward pass of one image [C, H, W] take (<see cref="Tape.TensorBytes"/>): measured by one
    /// pass of a blank image the first time an image size is asked for.
    /// </summary>
    public long ActivationBytesPerImage(int channels, int height, int width)
    {
        if (_measuredImage is { } known && (known.Channels, known.Height, known.Width) == (channels, height, width)) return known.Bytes;
        var tape = TapeFor(withGradients: false, configure: null);
        Model.Scores(tape, Kernels.Stage(Tensor.Zeros(1, channels, height, width)));
        _measuredImage = (channels, height, width, tape.TensorBytes);
        return tape.TensorBytes;
    }

    /// <summary>Explains every image of <paramref name="input"/> [N, C, H, W] with <paramref name="method"/>.</summary>
    public CamResult Explain(CamMethod method, Tensor input, CamTarget target, string? layer = null, ExplainOptions? options = null)
    {
        options ??= ExplainOptions.Default;
        Warnings.Clear();
        if (method.ReadsClassScore) target.RequireClassScore(method.Name);
        if (options.AugmentFlip && target is Targets.BoxTarget or Targets.SegmentationTarget { Mask: not null })
            throw new ArgumentException($"test-time augmentation mirrors the image, not the target {target}: explain without it");
        layer = LayerFor(method, layer);
        var result = ExplainUnnormalized(method, input, target, layer, options);
        if (options.AugmentFlip)
        {
            // Test-time augmentation: explain the mirrored image for the same classes, mirror its map back, average.
            var mirroredTarget = target is RankTarget ? new ImageClassTarget(result.Capture.TargetClasses) : target;
            var mirrored = ExplainUnnormalized(method, MapOps.FlipHorizontal(input, Kernels), mirroredTarget, layer, options);
            int plane = result.InputHeight * result.InputWidth;
            var mirroredBack = new float[plane];
            for (int n = 0; n < result.Batch; n++)
            {
                MapOps.FlipHorizontal(mirrored.Upsampled.AsSpan(n * plane, plane), result.InputHeight, result.InputWidth, mirroredBack);
                var averaged = result.Upsampled.AsSpan(n * plane, plane);
                for (int p = 0; p < plane; p++) averaged[p] = 0.5f * (averaged[p] + mirroredBack[p]);
            }
        }
        return Finish(method, result, options);
    }

    /// <summary>
    /// The tensor <paramref name="method"/> explains: <paramref name="layer"/> resolved (a tensor name or module path), or
    /// when null the method's own default (CAM's feature layer), else the model's.
    /// </summary>
    public string LayerFor(CamMethod method, string? layer) =>
        Resolve(layer ?? method.DefaultLayer(Model) ?? Model.DefaultLayer);

    // A model's layer names and the tensors their activations are read from never change: both are looked up once
    // (an imported model's module paths and consumers would otherwise be searched on every call).
    private readonly Dictionary<string, string> _resolved = [], _activationSources = [];

    /// <summary><see cref="IExplainable.ResolveLayer"/>, remembered.</summary>
    private string Resolve(string layer)
    {
        if (_resolved.TryGetValue(layer, out var resolved)) return resolved;
        resolved = Model.ResolveLayer(layer);
        _resolved[layer] = resolved;
        return resolved;
    }

    /// <summary><see cref="IExplainable.ActivationsOf"/>, remembered.</summary>
    private string ActivationsOf(string layer)
    {
        if (_activationSources.TryGetValue(layer, out var source)) return source;
        source = Model.ActivationsOf(layer);
        _activationSources[layer] = source;
        return source;
    }

    /// <summary>
    /// Explains <paramref name="input"/> with <paramref name="method"/> from a capture already made for <paramref name="target"/>
    /// (<see cref="Capture"/> with gradients and the method's <see cref="CamMethod.GradientSign"/>): several methods then share
    /// one forward and backward pass. Only for methods that read the default capture (<see cref="CamMethod.ReadsLayerCapture"/>).
    /// </summary>
    public CamResult Explain(CamMethod method, Tensor input, LayerCapture capture, CamTarget target, ExplainOptions? options = null)
    {
        options ??= ExplainOptions.Default;
        if (options.AugmentFlip) throw new ArgumentException("test-time augmentation needs a second capture: call Explain without one");
        if (!method.ReadsLayerCapture) throw new ArgumentException($"{method.Name} makes its own capture: call Explain without one");
        if (method.ReadsClassScore) target.RequireClassScore(method.Name);
        Warnings.Clear();
        return Finish(method, ExplainUnnormalized(method, input, target, capture.Layer, options, capture), options);
    }

    // Working arrays of the methods, by slot, grown on demand and kept (see Scratch).
    private float[][] _scratch = [];

    // The scratch slot of a per-position method's (unused) channel weights: past the methods' own slots.
    private const int WeightSlot = 8;

    /// <summary>
    /// A working array of at least <paramref name="length"/> values for a method's own use during one call (slot
    /// <paramref name="slot"/>: two arrays needed at once take two slots); its contents are left from earlier calls.
    /// </summary>
    internal Span<float> Scratch(int slot, int length)
    {
        if (_scratch.Length <= slot) Array.Resize(ref _scratch, slot + 1);
        if (_scratch[slot] is not { } array || array.Length < length) _scratch[slot] = array = new float[length];
        return array.AsSpan(0, length);
    }

    // The context of the last call, rebound to the next one's capture (a method reads it only while it is called).
    private CamContext? _context;

    /// <summary>Capture (unless given), weights, combination, ReLU and upsampling; <see cref="Finish"/> normalizes.</summary>
    private CamResult ExplainUnnormalized(CamMethod method, Tensor input, CamTarget target, string layer, ExplainOptions options, LayerCapture? captured = null)
    {
        if (input.Shape.Rank != 4) throw new ArgumentException($"explain: input must be [N, C, H, W], got {input.Shape}");
        var capture = captured ?? method.Capture(this, input, layer, target);
        var context = _context is null ? _context = new CamContext(capture, Model, input, this, target) : _context.Rebind(capture, input, target);
        int n = capture.Batch, k = capture.Channels, plane = capture.Plane;
        int height = input.Shape[2], width = input.Shape[3];

        // Channel weights are part of the result; a method that weighs positions fills (clears) a working array instead.
        var weightArray = method.HasChannelWeights ? new float[n * k] : null;
        var weights = weightArray is null ? Scratch(WeightSlot, n * k) : weightArray.AsSpan();
        method.ChannelWeights(context, weights);
        if (options.EigenSmooth && !method.HasChannelWeights)
            Warnings.Add($"{method.Name}: eigen-smoothing needs channel weights, and this method weighs positions; it was skipped");
        var weighted = new float[n * plane];
        var map = new float[n * plane];
        var upsampled = new float[n * height * width];
        for (int i = 0; i < n; i++)
        {
            var sum = weighted.AsSpan(i * plane, plane);
            method.Combine(context, i, weights.Slice(i * k, k), sum);
            if (options.EigenSmooth && method.HasChannelWeights) EigenSmooth(capture, i, weights.Slice(i * k, k), sum);
            var raw = map.AsSpan(i * plane, plane);
            if (method.AppliesRelu) MapOps.Relu(sum, raw); else sum.CopyTo(raw);
            MapOps.Upsample(raw, capture.Height, capture.Width, upsampled.AsSpan(i * height * width, height * width), height, width);
        }
        return new CamResult(method.Name, capture, method.HasChannelWeights ? weightArray : null, weighted, map, upsampled,
            new float[n * height * width], height, width, new bool[n]);
    }

    /// <summary>
    /// Eigen-smoothing (as pytorch-grad-cam's eigen_smooth): replaces Σ_k w_k A^k by the projection of the weighted
    /// channels w_k A^k on their first principal component, keeping only the dominant spatial pattern.
    /// </summary>
    private static void EigenSmooth(LayerCapture capture, int n, ReadOnlySpan<float> weights, Span<float> sum)
    {
        int k = capture.Channels, plane = capture.Plane;
        var channels = new float[k * plane];
        for (int c = 0; c < k; c++)
        {
            var a = capture.ActivationPlane(n, c);
            for (int p = 0; p < plane; p++) channels[c * plane + p] = weights[c] * a[p];
        }
        MapOps.PrincipalProjection(channels, k, plane, new float[k], sum);
    }

    /// <summary>
    /// The normalization policy: min–max to [0, 1] per image, a flat map (max = min) becomes zeros with a warning.
    /// With <see cref="ExplainOptions.Raw"/> the map is returned unscaled (ReLU and upsampling only) so that maps
    /// keep their magnitude across images and methods; flat maps are still reported.
    /// </summary>
    private CamResult Finish(CamMethod method, CamResult result, ExplainOptions options)
    {
        int plane = result.InputHeight * result.InputWidth;
        for (int i = 0; i < result.Batch; i++)
        {
            var up = result.Upsampled.AsSpan(i * plane, plane);
            var normalized = result.Normalized.AsSpan(i * plane, plane);
            result.FlatMaps[i] = !MapOps.MinMaxNormalize(up, normalized);
            if (options.Raw) up.CopyTo(normalized);
            if (result.FlatMaps[i])
                Warnings.Add($"{method.Name}: the map of image {i} (class {result.Capture.TargetClasses[i]}) is flat (max = min); {(options.Raw ? "it is returned unscaled" : "it is returned as zeros")}");
        }
        return result;
    }

    /// <summary>
    /// One forward pass (and, with gradients, one backward pass from the target scores) capturing the named layer.
    /// <paramref name="gradientSign"/> −1 differentiates −y^c (counterfactual explanations).
    /// </summary>
    public LayerCapture Capture(Tensor input, string layer, CamTarget target, bool withGradients, float gradientSign = 1f)
    {
        string resolved = Resolve(layer);
        // The gradient key of a pass to one layer is the layer's name (GradientKey), and a batch that fits one pass
        // runs without the chunking's closures: a warm explanation allocates nothing but its result.
        string? gradientKey = withGradients ? resolved : null;
        if (input.Shape.Rank == 4 && FitsOnePass(input, gradientKey))
        {
            _oneLayer[0] = resolved;
            return Pass(input, _oneLayer, target, withGradients, gradientSign, atInput: false, configure: null);
        }
        return CaptureChunked(input, resolved, target, withGradients, gradientSign, gradientKey);
    }

    /// <summary>
    /// <see cref="Capture"/> of a batch that may need several passes (apart, so that the closure it captures is made
    /// only when it runs: a captured parameter would make one on every call).
    /// </summary>
    private LayerCapture CaptureChunked(Tensor input, string resolved, CamTarget target, bool withGradients, float gradientSign, string? gradientKey) =>
        Chunked(input, target, gradientKey,
            (chunk, chunkTarget) => Pass(chunk, [resolved], chunkTarget, withGradients, gradientSign, atInput: false, configure: null));

    // The layer list of a pass to one layer, reused (a pass reads it only while it runs).
    private readonly string[] _oneLayer = new string[1];

    /// <summary>Whether <see cref="Chunked(Tensor, CamTarget, string?, Func{Tensor, CamTarget, int, LayerCapture})"/> would run the batch in one pass.</summary>
    private bool FitsOnePass(Tensor input, string? gradientKey) =>
        input.Shape[0] <= 1 || input.Shape[0] <= ImagesPerPass(input.Shape[1], input.Shape[2], input.Shape[3], gradientKey);

    /// <summary>
    /// One forward and backward pass that captures the input x and ∂y^c/∂x as a layer named <see cref="InputLayer"/>
    /// ([N, C, H, W]), with <paramref name="layers"/> captured in the same pass as <see cref="LayerCapture.Additional"/>.
    /// <paramref name="configure"/> may change the tape first (Guided Backprop overrides the ReLU backward rule).
    /// </summary>
    public LayerCapture CaptureAtInput(Tensor input, CamTarget target, IReadOnlyList<string>? layers = null, Action<Tape>? configure = null) =>
        Chunked(input, target, GradientKey([], atInput: true), (chunk, chunkTarget) => Pass(chunk, [.. (layers ?? []).Select(Resolve)], chunkTarget, withGradients: true, gradientSign: 1f, atInput: true, configure));

    /// <summary>
    /// <see cref="Capture"/> with gradients at activations moved along a direction: as <paramref name="layer"/>'s output
    /// is computed, <paramref name="step"/>·<paramref name="direction"/>[n, k, i, j] ([N, K, h, w], the layer's own
    /// layout) is added to it, the rest of the network runs on the moved values, and ∂y^c/∂A is read there. Two such
    /// passes give a finite difference of the gradient along the direction — a Hessian-vector product (ShapleyCAM).
    /// </summary>
    public LayerCapture CaptureMoved(Tensor input, string layer, CamTarget target, float[] direction, float step, float gradientSign = 1f)
    {
        string resolved = Resolve(layer);
        return Chunked(input, target, GradientKey([resolved], atInput: false), (chunk, chunkTarget, first) =>
            Pass(chunk, [resolved], chunkTarget, withGradients: true, gradientSign, atInput: false,
                tape => tape.AddForwardHook(resolved, output => MoveAlong(output, direction, first, step))));
    }

    /// <summary>Adds step·direction (images first, first + 1, … of the whole batch) to a layer's output [B, K, h, w], in place.</summary>
    private static void MoveAlong(Tensor output, float[] direction, int first, float step)
    {
        if (output.Shape.Rank != 4)
            throw new ArgumentException($"moving the activations needs a spatial layer [N, K, h, w], got {output.Shape}");
        int size = output.Size, offset = first * (size / output.Shape[0]);
        if (offset + size > direction.Length)
            throw new ArgumentException($"the direction holds {direction.Length} values, the layer's output {output.Shape} from image {first} needs {offset + size}");
        var values = output.IsOnHost ? output.Data : output.ToArray();
        var along = direction.AsSpan(offset, size);
        for (int i = 0; i < size; i++) values[i] += step * along[i];
        if (!output.IsOnHost) output.Buffer.CopyFrom(values.AsSpan(0, size));
    }

    /// <summary>The names of the pass's spatial outputs ([N, K, h, w]) in the order they were computed, for an error message.</summary>
    private static string SpatialLayers(Tape tape)
    {
        var names = tape.Named.Where(entry => entry.Value.Shape.Rank == 4).Select(entry => entry.Key).ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names.Take(40)) + (names.Count > 40 ? $", … ({names.Count} in all; see `nanocam layers`)" : "");
    }

    /// <summary>
    /// Runs <paramref name="pass"/> on chunks of at most <see cref="ImagesPerPass(int, int, int, bool)"/> images (the whole
    /// batch when it fits) and joins the captures; each chunk's target sees its images under their indices in the batch.
    /// The chunks are as even as the limit allows (10 images at 9 a pass: 5 and 5, not 9 and 1: a pass of one image
    /// costs nearly as much as a pass of several), and each is sized when it starts, so the chunks after the first use
    /// what the first one's gradients took.
    /// </summary>
    private LayerCapture Chunked(Tensor input, CamTarget target, string? gradientKey, Func<Tensor, CamTarget, LayerCapture> pass) =>
        Chunked(input, target, gradientKey, (chunk, chunkTarget, _) => pass(chunk, chunkTarget));

    /// <summary><see cref="Chunked(Tensor, CamTarget, string?, Func{Tensor, CamTarget, LayerCapture})"/>, each pass told the index of its first image.</summary>
    private LayerCapture Chunked(Tensor input, CamTarget target, string? gradientKey, Func<Tensor, CamTarget, int, LayerCapture> pass)
    {
        if (input.Shape.Rank != 4) throw new ArgumentException($"explain: input must be [N, C, H, W], got {input.Shape}");
        int batch = input.Shape[0];
        int Chunk(int left)
        {
            int most = left <= 1 ? 1 : ImagesPerPass(input.Shape[1], input.Shape[2], input.Shape[3], gradientKey);
            int chunks = (left + most - 1) / most;
            return (left + chunks - 1) / chunks;
        }
        int chunk = Chunk(batch);
        if (batch <= chunk) return pass(input, target, 0);
        var parts = new List<LayerCapture>();
        for (int first = 0; first < batch; first += chunk)
        {
            chunk = Chunk(batch - first);
            parts.Add(pass(Rows(input, first, chunk), new OffsetTarget(target, first), first));
        }
        return LayerCapture.Join(parts);
    }

    /// <summary>Images [first, first + count) of a batch as a host tensor.</summary>
    private static Tensor Rows(Tensor batch, int first, int count)
    {
        int size = batch.Shape.Product(1, batch.Shape.Rank);
        var values = batch.IsOnHost ? batch.Span.Slice(first * size, count * size).ToArray() : batch.ToArray().AsSpan(first * size, count * size).ToArray();
        return Tensor.FromArray(values, [count, .. batch.Shape.Dims[1..]]);
    }

    private LayerCapture Pass(Tensor input, string[] layers, CamTarget target, bool withGradients, float gradientSign, bool atInput, Action<Tape>? configure)
    {
        if (input.Shape.Rank != 4) throw new ArgumentException($"explain: input must be [N, C, H, W], got {input.Shape}");
        var tape = TapeFor(withGradients, configure);
        if (withGradients) foreach (var layer in layers) tape.RequireGradient(layer);
        // Where the activations are read (see IExplainable.ActivationsOf); read after the pass, so a no-grad pass must not
        // fuse them away. The per-layer lists are the explainer's, reused (indexed loops: a warm pass allocates nothing).
        var (sources, published, activationTensors) = LayerLists(layers.Length);
        for (int l = 0; l < layers.Length; l++)
        {
            sources[l] = ActivationsOf(layers[l]);
            tape.Keep(layers[l]);
            tape.Keep(sources[l]);
        }
        // Host inputs (decoded images, masked copies) enter a device backend here, once per pass.
        Tensor x = atInput ? input : Kernels.Stage(input);
        if (atInput)
        {
            // A copy of the input that asks for its gradient, so the caller's tensor is left as it was.
            x = Kernels.Allocate(input.Shape);
            x.Buffer.CopyFrom(input.ToArray());
            x.RequiresGrad = true;
        }
        var scores = Model.Scores(tape, x);
        for (int l = 0; l < layers.Length; l++)
        {
            if (!tape.Named.TryGetValue(layers[l], out var activations) || !tape.Named.TryGetValue(sources[l], out var source))
                throw new ArgumentException($"layer '{layers[l]}' does not exist in this model; spatial layers: {SpatialLayers(tape)}");
            if (activations.Shape.Rank != 4 && !(ReshapeTokens && activations.Shape.Rank == 3))
                throw new ArgumentException($"layer '{layers[l]}' is not spatial: its output has shape {activations.Shape}, CAM needs [N, K, h, w]"
                    + (activations.Shape.Rank == 3 ? " (a transformer's tokens [N, T, D]: lay them out on their grid with --reshape-tokens)" : ""));
            published[l] = activations;
            activationTensors[l] = source;
        }

        // The scores, classes and captured values are the result's (the caller keeps them); the seed is the explainer's.
        int n = scores.Shape[0], classes = scores.Shape[1];
        var hostScores = scores.ToArray();
        var targets = new int[n];
        var seed = SeedBuffer(n * classes);
        seed.Clear();
        for (int i = 0; i < n; i++)
        {
            var row = hostScores.AsSpan(i * classes, classes);
            targets[i] = target.ClassFor(i, row);
            target.Seed(i, row, seed.Slice(i * classes, classes));
        }
        // The activations are copied before the backward pass runs (a backward rule may reuse an output's buffer).
        bool single = !atInput && layers.Length == 1;
        var singleActivations = single ? HostCopy(activationTensors[0]) : null;
        var hostActivations = single ? null : new float[layers.Length][];
        for (int l = 0; !single && l < layers.Length; l++) hostActivations![l] = HostCopy(activationTensors[l]);
        float[]? inputGradient = null;
        if (withGradients)
        {
            if (gradientSign != 1f) foreach (ref var s in seed) s *= gradientSign;
            var seedTensor = SeedTensor(scores.Shape);
            seedTensor.Buffer.CopyFrom(seed);
            tape.Backward(scores, seedTensor);
            RecordGradientBytes(tape, layers, atInput, x, n);
            if (atInput) inputGradient = x.Grad!.ToArray();
        }

        if (single)
            return Make(layers[0], published[0].Shape, singleActivations!, withGradients ? HostCopy(published[0].Grad!) : null, hostScores, classes, targets);
        var captured = new LayerCapture[layers.Length];
        for (int l = 0; l < layers.Length; l++)
            captured[l] = Make(layers[l], published[l].Shape, hostActivations![l], withGradients ? HostCopy(published[l].Grad!) : null, hostScores, classes, targets);
        if (atInput) return Make(InputLayer, input.Shape, input.ToArray(), inputGradient, hostScores, classes, targets) with { Additional = captured };
        return captured[0];
    }

    /// <summary>A capture of <paramref name="name"/> of shape <paramref name="s"/>, its values and gradients already copied by <see cref="HostCopy"/>.</summary>
    private static LayerCapture Make(string name, Shape s, float[] values, float[]? grads, float[] scores, int classes, int[] targets)
    {
        if (s.Rank == 4) return new(name, s[0], s[1], s[2], s[3], values, grads, scores, classes, targets);
        int side = TokenGrid.Of(s).Side;
        return new(name, s[0], s[2], side, side, values, grads, scores, classes, targets);
    }

    /// <summary>
    /// The host copy a capture keeps: [N, K, h, w] as it is; tokens [N, T, D] laid out on their grid, read through a
    /// buffer kept from pass to pass (the laid-out array is the only new one).
    /// </summary>
    private float[] HostCopy(Tensor tensor)
    {
        if (tensor.Shape.Rank != 3) return tensor.ToArray();
        if (_tokens.Length < tensor.Size) _tokens = new float[tensor.Size];
        var tokens = _tokens.AsSpan(0, tensor.Size);
        tensor.Buffer.CopyTo(tokens);
        return TokenGrid.Of(tensor.Shape).Lay(tokens);
    }

    // What a pass needs besides its result, kept from pass to pass: the per-layer lists, the seed on the host and in the backend.
    private string[] _sources = [];
    private Tensor[] _published = [], _activationTensors = [];
    private float[] _seed = [], _tokens = [];
    private Tensor? _seedTensor;

    /// <summary>The reused lists of a pass to <paramref name="count"/> layers (their entries are overwritten by the pass).</summary>
    private (string[] Sources, Tensor[] Published, Tensor[] Activations) LayerLists(int count)
    {
        if (_sources.Length != count) (_sources, _published, _activationTensors) = (new string[count], new Tensor[count], new Tensor[count]);
        return (_sources, _published, _activationTensors);
    }

    /// <summary>The host seed ∂L/∂y of <paramref name="length"/> values, reused.</summary>
    private Span<float> SeedBuffer(int length)
    {
        if (_seed.Length < length) _seed = new float[length];
        return _seed.AsSpan(0, length);
    }

    /// <summary>The backend's seed tensor of the scores' shape, reused while the shape stays.</summary>
    private Tensor SeedTensor(Shape shape)
    {
        if (_seedTensor is null || _seedTensor.Shape != shape) _seedTensor = Kernels.Allocate(shape);
        return _seedTensor;
    }

    /// <summary>What the gradients of this backward pass take per image: every output that required one, and the input's.</summary>
    private void RecordGradientBytes(Tape tape, string[] layers, bool atInput, Tensor x, int images)
    {
        // Once per kind of pass: a pass of one layer is keyed by the layer's own name (nothing to join), and what one
        // image's gradients take does not change with the batch.
        if (!atInput && layers.Length == 1 && _gradientBytesPerImage.ContainsKey(layers[0])) return;
        long elements = atInput ? x.Size : 0;
        foreach (var node in tape.Nodes)
            if (node.Output.RequiresGrad) elements += node.Output.Size;
        _gradientBytesPerImage[GradientKey(layers, atInput)] = elements * sizeof(float) / Math.Max(1, images);
    }

    /// <summary>Class scores of a batch without recording gradients (used by the masked-input methods).</summary>
    public float[] ScoresOf(Tensor input) => ScoresOf(input, null);

    /// <summary>
    /// Class scores [count, classes] of <paramref name="count"/> images [C, H, W], built one at a time by
    /// <paramref name="fillImage"/>(index, image) and run through the model at most <paramref name="batchSize"/> (and
    /// <see cref="ImagesPerPass(int, int, int, bool)"/>) at a time, in even batches, without gradients (masked, ablated
    /// or perturbed inputs: Score-CAM, Ablation-CAM, the deletion metric).
    /// <paramref name="beforeBatch"/>(first index, batch length, tape) may install forward hooks for that batch.
    /// </summary>
    public float[] ScoresOf(int count, int batchSize, int channels, int height, int width,
        Action<int, Span<float>> fillImage, Action<int, int, Tape>? beforeBatch = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");
        batchSize = Math.Min(batchSize, Math.Max(1, Model.PerturbationBatch));
        if (count > 1 && batchSize > 1) batchSize = Math.Min(batchSize, ImagesPerPass(channels, height, width, withGradients: false));
        // Batches as even as that allows (66 images at 64 a pass: 33 and 33, not 64 and 2).
        int batches = (Math.Max(count, 1) + batchSize - 1) / batchSize;
        batchSize = (Math.Max(count, 1) + batches - 1) / batches;
        int classes = Model.Classes, size = channels * height * width;
        var scores = new float[count * classes];
        int most = Math.Min(batchSize, Math.Max(count, 1)) * size;
        if (_scoredImages.Length < most) _scoredImages = new float[most];
        if (_scoredInput is null || _scoredInput.Length < most) _scoredInput = Kernels.Allocate(new Shape(most)).Buffer;
        for (int first = 0; first < count; first += batchSize)
        {
            int length = Math.Min(batchSize, count - first);
            var images = _scoredImages.AsSpan(0, length * size);
            for (int b = 0; b < length; b++) fillImage(first + b, images.Slice(b * size, size));
            var tensor = new Tensor(new Shape([length, channels, height, width]), _scoredInput);
            tensor.Buffer.CopyFrom(images);
            // Always through the configured tape (a no-op configuration when there are no hooks): its batch-sized
            // buffers then stay apart from those of the capture pass on the plain tape, and neither is reallocated.
            // The batch's scores go straight into the result (no array per batch, no closure per batch).
            var tape = TapeFor(withGradients: false, NoConfiguration);
            beforeBatch?.Invoke(first, length, tape);
            var batchScores = Model.Scores(tape, Kernels.Stage(tensor));
            if (batchScores.Size != length * classes)
                throw new InvalidOperationException($"the model gave scores {batchScores.Shape} for {length} images, not [{length}, {classes}]");
            batchScores.Buffer.CopyTo(scores.AsSpan(first * classes, length * classes));
        }
        return scores;
    }

    /// <summary>
    /// Class scores [count, classes] of <paramref name="count"/> passes that differ only at <paramref name="layer"/>: the
    /// layer's output of pass i ([K, h, w], <paramref name="perPass"/> values) is written by
    /// <paramref name="fillActivations"/>(i, values), and only the part of the network above the layer runs
    /// (<see cref="IRunsAboveLayer"/>), at most <paramref name="batchSize"/> passes at a time, on one reused tape and input.
    /// Null when the model cannot run above this layer.
    /// </summary>
    public float[]? ScoresAbove(string layer, int count, int batchSize, Shape perPass, Action<int, Span<float>> fillActivations)
    {
        if (Model is not IRunsAboveLayer above) return null;
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");
        int size = perPass.Size, classes = Model.Classes;
        // Batches as even as the limit allows, each no larger than the budget (the activations and what is above them).
        long bytesPerPass = Math.Max(1L, (long)size * sizeof(float) * 4);
        batchSize = (int)Math.Clamp(Math.Min(batchSize, PassMemoryBudget / bytesPerPass), 1, Math.Max(1, Math.Min(Model.MaxBatch, Model.PerturbationBatch)));
        int batches = (Math.Max(count, 1) + batchSize - 1) / batchSize;
        batchSize = (Math.Max(count, 1) + batches - 1) / batches;
        var scores = new float[count * classes];
        int most = Math.Min(batchSize, Math.Max(count, 1)) * size;
        if (_scoredImages.Length < most) _scoredImages = new float[most];
        if (_scoredInput is null || _scoredInput.Length < most) _scoredInput = Kernels.Allocate(new Shape(most)).Buffer;
        var tape = _aboveTape ??= new Tape(Kernels) { ParameterGradients = false, GradEnabled = false };
        for (int first = 0; first < count; first += batchSize)
        {
            int length = Math.Min(batchSize, count - first);
            var values = _scoredImages.AsSpan(0, length * size);
            for (int b = 0; b < length; b++) fillActivations(first + b, values.Slice(b * size, size));
            var activations = new Tensor(new Shape([length, .. perPass.Dims]), _scoredInput);
            activations.Buffer.CopyFrom(values);
            tape.Reset();
            var batchScores = above.ScoresAbove(tape, layer, activations);
            if (batchScores is null) return null;
            if (batchScores.Size != length * classes)
                throw new InvalidOperationException($"the part above layer '{layer}' gave {batchScores.Shape} for {length} passes, not [{length}, {classes}]");
            batchScores.Buffer.CopyTo(scores.AsSpan(first * classes, length * classes));
        }
        return scores;
    }

    // The tape of the passes above a layer (their nodes are not those of a whole pass: apart, neither reallocates the other's).
    private Tape? _aboveTape;

    // The configuration of a batch of ScoresOf(count, …) without hooks: none, but through the configured tape.
    private static readonly Action<Tape> NoConfiguration = _ => { };

    // The images of ScoresOf(count, …) on the host and in the backend's memory, grown on demand and kept: a caller that
    // scores a few images per call (a deletion curve per image) then allocates no batch per call.
    private float[] _scoredImages = [];
    private TensorBuffer? _scoredInput;

    /// <summary>
    /// Class scores of a batch without gradients; <paramref name="configure"/> may install forward hooks first. Without
    /// hooks a batch larger than <see cref="ImagesPerPass(int, int, int, bool)"/> runs in chunks; hooks see one pass, so with them it must fit
    /// <see cref="IExplainable.MaxBatch"/> (and its memory is the caller's choice).
    /// </summary>
    public float[] ScoresOf(Tensor input, Action<Tape>? configure)
    {
        int batch = input.Shape[0];
        int chunk = batch > 1 && configure is null && input.Shape.Rank == 4
            ? ImagesPerPass(input.Shape[1], input.Shape[2], input.Shape[3], withGradients: false)
            : Math.Max(1, Model.MaxBatch);
        if (batch > chunk)
        {
            if (configure is not null) throw new ArgumentException($"a configured pass takes at most {chunk} image(s) on this model, got {batch}");
            var scores = new List<float>();
            for (int first = 0; first < batch; first += chunk)
                scores.AddRange(ScoresOf(Rows(input, first, Math.Min(chunk, batch - first)), null));
            return [.. scores];
        }
        var tape = TapeFor(withGradients: false, configure);
        return Model.Scores(tape, Kernels.Stage(input)).ToArray();
    }

    // Two tapes, rewound and reused so that repeated explanations allocate no new activation buffers (every result is
    // copied to the host before the next pass): one for plain passes, one for passes with hooks or rule overrides
    // (which are cleared before each pass, so they never outlive it). Two, so that the plain nodes stay in place.
    private Tape? _plainTape, _configuredTape;

    /// <summary>A rewound tape for one pass, parameters frozen (explanations need no ∂y/∂W), configured by <paramref name="configure"/>.</summary>
    private Tape TapeFor(bool withGradients, Action<Tape>? configure)
    {
        ref var cached = ref configure is null ? ref _plainTape : ref _configuredTape;
        var tape = cached ??= new Tape(Kernels) { ParameterGradients = false };
        tape.Reset();
        tape.ClearRequiredGradients();
        tape.ClearHooksAndOverrides();
        tape.GradEnabled = withGradients;
        configure?.Invoke(tape);
        return tape;
    }
}

/// <summary>Options of one explanation call: the normalization policy and test-time smoothing.</summary>
/// <param name="Raw">Skip min–max normalization: <see cref="CamResult.Normalized"/> holds the unscaled upsampled map.</param>
/// <param name="AugmentFlip">Also explain the horizontally mirrored image, mirror its map back and average the two.</param>
/// <param name="EigenSmooth">Replace Σ_k w_k A^k by the first principal component of the weighted channels.</param>
public sealed record ExplainOptions(bool Raw = false, bool AugmentFlip = false, bool EigenSmooth = false)
{
    /// <summary>Normalized maps, no augmentation, no smoothing.</summary>
    public static ExplainOptions Default { get; } = new();
}

/// <summary>
/// A transformer's tokens [N, T, D] on their square grid, channels first: token 1 + i·side + j (after the class token,
/// when there is one: T = side² + 1) goes to [n, :, i, j]; with T = side² every token is a cell.
/// </summary>
internal readonly record struct TokenGrid(int Batch, int Tokens, int Channels, int Side, int First)
{
    public static TokenGrid Of(Shape tokens)
    {
        int n = tokens[0], t = tokens[1], d = tokens[2];
        int withClass = (int)Math.Round(Math.Sqrt(t - 1)), plain = (int)Math.Round(Math.Sqrt(t));
        if (t > 1 && withClass * withClass == t - 1) return new(n, t, d, withClass, 1);
        if (plain * plain == t) return new(n, t, d, plain, 0);
        throw new ArgumentException($"tokens {tokens} do not lie on a square grid (neither T nor T − 1 is a square)");
    }

    /// <summary>[N, T, D] → [N, D, side, side].</summary>
    public float[] Lay(ReadOnlySpan<float> tokens)
    {
        int cells = Side * Side;
        var grid = new float[Batch * Channels * cells];
        for (int n = 0; n < Batch; n++)
            for (int cell = 0; cell < cells; cell++)
                for (int c = 0; c < Channels; c++)
                    grid[(n * Channels + c) * cells + cell] = tokens[(n * Tokens + First + cell) * Channels + c];
        return grid;
    }
}

/// <summary>A target seen from a chunk of a batch: image i of the chunk is image <paramref name="First"/> + i of the batch.</summary>
internal sealed record OffsetTarget(CamTarget Inner, int First) : CamTarget
{
    public override int ClassFor(int image, ReadOnlySpan<float> scores) => Inner.ClassFor(First + image, scores);

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed) => Inner.Seed(First + image, scores, seed);
}

/// <summary>A fixed class per image (the classes found by a first pass, reused for the mirrored pass).</summary>
internal sealed record ImageClassTarget(int[] Classes) : CamTarget
{
    public override int ClassFor(int image, ReadOnlySpan<float> scores) => Classes[image];
}
