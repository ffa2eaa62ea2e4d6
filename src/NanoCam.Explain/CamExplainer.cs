using NanoCam.Autodiff;

namespace NanoCam.Explain;

/// <summary>
/// Runs CAM-family explanations of an <see cref="IExplainable"/> model on one backend: registers a capture at the
/// target layer, runs forward, seeds ∂L/∂y with the target (L = y^c), runs backward to the layer, reads A and
/// ∂y^c/∂A, lets the method weigh the channels, then the shared tail: ReLU, bilinear upsampling, min–max normalization.
/// </summary>
public sealed class CamExplainer(IExplainable model, IKernels kernels)
{
    public IExplainable Model { get; } = model;
    public IKernels Kernels { get; } = kernels;

    /// <summary>Warnings raised by the last call (flat maps, …).</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Explains every image of <paramref name="input"/> [N, C, H, W] with <paramref name="method"/>.</summary>
    public CamResult Explain(CamMethod method, Tensor input, CamTarget target, string? layer = null)
    {
        Warnings.Clear();
        layer ??= Model.DefaultLayer;
        var capture = Capture(input, layer, target, method.UsesGradients, method.GradientSign);
        var context = new CamContext(capture, Model, input, this, target);
        int n = capture.Batch, k = capture.Channels, plane = capture.Plane;
        int height = input.Shape[2], width = input.Shape[3];

        var weights = new float[n * k];
        method.ChannelWeights(context, weights);
        var weighted = new float[n * plane];
        var map = new float[n * plane];
        var upsampled = new float[n * height * width];
        var normalized = new float[n * height * width];
        var flat = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var sum = weighted.AsSpan(i * plane, plane);
            method.Combine(context, i, weights.AsSpan(i * k, k), sum);
            var raw = map.AsSpan(i * plane, plane);
            if (method.AppliesRelu) MapOps.Relu(sum, raw); else sum.CopyTo(raw);
            var up = upsampled.AsSpan(i * height * width, height * width);
            MapOps.Upsample(raw, capture.Height, capture.Width, up, height, width);
            flat[i] = !MapOps.MinMaxNormalize(up, normalized.AsSpan(i * height * width, height * width));
            if (flat[i]) Warnings.Add($"{method.Name}: the map of image {i} (class {capture.TargetClasses[i]}) is flat (max = min); it is returned as zeros");
        }
        return new CamResult(method.Name, capture, method.HasChannelWeights ? weights : null, weighted, map, upsampled, normalized, height, width, flat);
    }

    /// <summary>
    /// One forward pass (and, with gradients, one backward pass from the target scores) capturing the named layer.
    /// <paramref name="gradientSign"/> −1 differentiates −y^c (counterfactual explanations).
    /// </summary>
    public LayerCapture Capture(Tensor input, string layer, CamTarget target, bool withGradients, float gradientSign = 1f)
    {
        if (input.Shape.Rank != 4) throw new ArgumentException($"explain: input must be [N, C, H, W], got {input.Shape}");
        var tape = new Tape(Kernels) { GradEnabled = withGradients };
        if (withGradients) tape.RequireGradient(layer);
        var scores = Model.Scores(tape, input);
        if (!tape.Named.TryGetValue(layer, out var activations))
            throw new ArgumentException($"layer '{layer}' does not exist in this model");
        if (activations.Shape.Rank != 4)
            throw new ArgumentException($"layer '{layer}' is not spatial: its output has shape {activations.Shape}, CAM needs [N, K, h, w]");

        int n = scores.Shape[0], classes = scores.Shape[1];
        var hostScores = scores.ToArray();
        var targets = new int[n];
        var seed = new float[n * classes];
        for (int i = 0; i < n; i++)
        {
            var row = hostScores.AsSpan(i * classes, classes);
            targets[i] = target.ClassFor(i, row);
            target.Seed(i, row, seed.AsSpan(i * classes, classes));
        }
        var hostActivations = activations.ToArray();
        float[]? gradients = null;
        if (withGradients)
        {
            if (gradientSign != 1f) for (int i = 0; i < seed.Length; i++) seed[i] *= gradientSign;
            var seedTensor = Kernels.Allocate(scores.Shape);
            seedTensor.Buffer.CopyFrom(seed);
            tape.Backward(scores, seedTensor);
            gradients = activations.Grad!.ToArray();
        }
        var s = activations.Shape;
        return new LayerCapture(layer, s[0], s[1], s[2], s[3], hostActivations, gradients, hostScores, classes, targets);
    }

    /// <summary>Class scores of a batch without recording gradients (used by the masked-input methods).</summary>
    public float[] ScoresOf(Tensor input)
    {
        var tape = new Tape(Kernels) { GradEnabled = false };
        return Model.Scores(tape, input).ToArray();
    }
}
