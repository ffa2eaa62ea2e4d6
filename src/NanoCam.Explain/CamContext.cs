using NanoCam.Autodiff;

namespace NanoCam.Explain;

/// <summary>What a CAM method may read to weigh the channels: the capture, and the model and input for methods that run more passes.</summary>
public sealed record CamContext(LayerCapture Capture, IExplainable Model, Tensor Input, CamExplainer Explainer, CamTarget Target)
{
    private float[]? _hostInput;

    /// <summary>Input channels C of the images [N, C, H, W].</summary>
    public int InputChannels => Input.Shape[1];

    public int InputHeight => Input.Shape[2];

    public int InputWidth => Input.Shape[3];

    /// <summary>Elements of one input image, C·H·W.</summary>
    public int ImageSize => InputChannels * InputHeight * InputWidth;

    /// <summary>The input copied to the host once ([N, C, H, W], row-major).</summary>
    public float[] HostInput => _hostInput ??= Input.ToArray();

    /// <summary>Image n of the input, [C, H, W].</summary>
    public ReadOnlySpan<float> InputImage(int n) => HostInput.AsSpan(n * ImageSize, ImageSize);

    /// <summary>
    /// Class scores [count, classes] of <paramref name="count"/> images of the input's size, built one at a time by
    /// <paramref name="fillImage"/>(index, image) and run through the model in batches of <paramref name="batchSize"/>
    /// without gradients (the masked-input passes of Score-CAM, the ablated passes of Ablation-CAM).
    /// <paramref name="beforeBatch"/>(first index, batch length, tape) may install forward hooks for that batch.
    /// </summary>
    public float[] ScoresOf(int count, int batchSize, Action<int, Span<float>> fillImage, Action<int, int, Tape>? beforeBatch = null) =>
        Explainer.ScoresOf(count, batchSize, InputChannels, InputHeight, InputWidth, fillImage, beforeBatch);
}
