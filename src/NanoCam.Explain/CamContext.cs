using NanoCam.Autodiff;

namespace NanoCam.Explain;

/// <summary>What a CAM method may read to weigh the channels: the capture, and the model and input for methods that run more passes.</summary>
public sealed class CamContext(LayerCapture Capture, IExplainable Model, Tensor Input, CamExplainer Explainer, CamTarget Target)
{
    private float[]? _hostInput;
    private bool _hostInputCurrent;

    /// <summary>What the pass left at the layer.</summary>
    public LayerCapture Capture { get; private set; } = Capture;

    public IExplainable Model { get; } = Model;

    /// <summary>The images explained, [N, C, H, W].</summary>
    public Tensor Input { get; private set; } = Input;

    public CamExplainer Explainer { get; } = Explainer;

    public CamTarget Target { get; private set; } = Target;

    /// <summary>
    /// This context for another call of the same explainer (the explainer keeps one, so that a warm explanation allocates
    /// nothing but its result); the host copy of the input keeps its buffer when the size stays.
    /// </summary>
    internal CamContext Rebind(LayerCapture capture, Tensor input, CamTarget target)
    {
        (Capture, Input, Target) = (capture, input, target);
        _hostInputCurrent = false;
        return this;
    }

    /// <summary>The explainer's working array of a slot (<see cref="CamExplainer.Scratch"/>), or a new one for a context made without an explainer.</summary>
    internal Span<float> Scratch(int slot, int length) => Explainer is null ? new float[length] : Explainer.Scratch(slot, length);

    /// <summary>Input channels C of the images [N, C, H, W].</summary>
    public int InputChannels => Input.Shape[1];

    public int InputHeight => Input.Shape[2];

    public int InputWidth => Input.Shape[3];

    /// <summary>Elements of one input image, C·H·W.</summary>
    public int ImageSize => InputChannels * InputHeight * InputWidth;

    /// <summary>The input copied to the host once ([N, C, H, W], row-major).</summary>
    public float[] HostInput
    {
        get
        {
            if (_hostInputCurrent) return _hostInput!;
            if (_hostInput is null || _hostInput.Length != Input.Size) _hostInput = new float[Input.Size];
            Input.Buffer.CopyTo(_hostInput);
            _hostInputCurrent = true;
            return _hostInput;
        }
    }

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
