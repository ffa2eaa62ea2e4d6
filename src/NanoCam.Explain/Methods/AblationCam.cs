namespace NanoCam.Explain.Methods;

/// <summary>
/// Ablation-CAM (Desai &amp; Ramaswamy 2020, eq. 3): w_k^c = (y^c − y^c_k) / y^c, with y^c_k the score when channel k of
/// the target layer is set to zero. Needs no gradient. The ablated passes are batched: image n is replicated and
/// copy b of a batch has channel (first + b) mod K zeroed by a forward hook at the layer. When y^c = 0 the weight is
/// the plain drop y^c − y^c_k.
/// On a model that can run the part of its network above the layer (<see cref="IRunsAboveLayer"/>), the ablated passes
/// start from the captured activations with channel k zeroed and run only that part: the layers below are the same in
/// every ablated pass, and are not run again (<see cref="AboveLayer"/>).
/// </summary>
public sealed class AblationCam(int batchSize = 32) : CamMethod
{
    public override string Name => "ablationcam";
    public override bool UsesGradients => false;

    /// <summary>Ablated copies per forward pass.</summary>
    public int BatchSize { get; } = batchSize >= 1 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");

    /// <summary>
    /// Whether the ablated passes run only the part above the layer when the model can (the same scores, without the
    /// layers below); false runs every ablated pass from the image, the layer's channel zeroed by a forward hook.
    /// </summary>
    public bool AboveLayer { get; init; } = true;

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        int channels = c.Channels;
        // Copy i of the whole run is image i / K with channel i mod K ablated.
        var scores = (AboveLayer ? AblatedAbove(context) : null) ?? context.ScoresOf(c.Batch * channels, BatchSize,
            (index, output) => context.InputImage(index / channels).CopyTo(output),
            (first, length, tape) => tape.AddForwardHook(c.Layer, layer => ZeroChannels(layer, first, channels)));
        for (int n = 0; n < c.Batch; n++)
        {
            float score = c.TargetScore(n);
            for (int k = 0; k < channels; k++)
            {
                float ablated = scores[(n * channels + k) * c.Classes + c.TargetClasses[n]];
                weights[n * channels + k] = score == 0f ? score - ablated : (score - ablated) / score;
            }
        }
    }

    /// <summary>
    /// The ablated scores from the part above the layer: copy i is image i / K's captured activations with channel i mod K
    /// zeroed. Null when the model cannot run above this layer, or when the captured values are not the layer's own (an
    /// imported model's in-place ReLU shows the activations after it).
    /// </summary>
    private float[]? AblatedAbove(CamContext context)
    {
        var c = context.Capture;
        if (context.Model is not IRunsAboveLayer || context.Model.ActivationsOf(c.Layer) != c.Layer) return null;
        int channels = c.Channels, plane = c.Plane, image = channels * plane;
        return context.Explainer.ScoresAbove(c.Layer, c.Batch * channels, BatchSize, new Shape(channels, c.Height, c.Width), (index, values) =>
        {
            c.Activations.AsSpan(index / channels * image, image).CopyTo(values);
            values.Slice(index % channels * plane, plane).Clear();
        });
    }

    /// <summary>Zeroes channel (first + b) mod K of copy b of the layer's output [B, K, h, w], in place.</summary>
    private static void ZeroChannels(Tensor layer, int first, int channels)
    {
        if (layer.Shape.Rank != 4 || layer.Shape[1] != channels)
            throw new InvalidOperationException($"ablationcam: expected [B, {channels}, h, w] at the layer, got {layer.Shape}");
        int batch = layer.Shape[0], plane = layer.Shape[2] * layer.Shape[3];
        var values = layer.IsOnHost ? layer.Data : layer.ToArray();
        for (int b = 0; b < batch; b++)
            values.AsSpan((b * channels + (first + b) % channels) * plane, plane).Clear();
        if (!layer.IsOnHost) layer.Buffer.CopyFrom(values.AsSpan(0, layer.Size));
    }
}
