namespace NanoCam.Explain.Methods;

/// <summary>
/// An explanation in input space: one attribution per input value, [N, C, H, W] in the model's input layout, for the
/// target class of each image (saliency, Integrated Gradients, SmoothGrad, Occlusion, …). One file per method, like the
/// CAM family; the shared part here finds the classes and runs batched input-gradient passes.
/// </summary>
public abstract class InputAttribution
{
    /// <summary>The method's name, as <c>--method</c> takes it.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Whether the method reads the class score y^c of its inputs (through <see cref="ClassesOf"/>) rather than only the
    /// gradient the target seeds: such a method explains class-score targets only (<see cref="CamTarget.IsClassScore"/>).
    /// </summary>
    public virtual bool ReadsClassScore => true;

    /// <summary>The attributions of every image of <paramref name="input"/> [N, C, H, W] for its target class.</summary>
    public abstract AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target);

    /// <summary>
    /// The per-pixel map [H, W] of image n that overlays and the metrics read: Σ_c |a_c| (Captum's "absolute value"
    /// view) unless a method defines its own.
    /// </summary>
    public virtual float[] MapOf(AttributionResult result, int n) => ChannelSum(result, n, absolute: true);

    /// <summary>Σ_c a_c at every pixel of image n, or Σ_c |a_c| when <paramref name="absolute"/>.</summary>
    private protected static float[] ChannelSum(AttributionResult result, int n, bool absolute)
    {
        var values = result.Of(n);
        int plane = result.Height * result.Width;
        var map = new float[plane];
        for (int c = 0; c < result.Channels; c++)
            for (int p = 0; p < plane; p++) map[p] += absolute ? MathF.Abs(values[c * plane + p]) : values[c * plane + p];
        return map;
    }

    /// <summary>The class each image is explained for, from one no-grad pass (so that perturbed copies keep it).</summary>
    protected int[] ClassesOf(CamExplainer explainer, Tensor input, CamTarget target)
    {
        target.RequireClassScore(Name);
        var scores = explainer.ScoresOf(input);
        int count = input.Shape[0], classes = explainer.Model.Classes;
        var result = new int[count];
        for (int n = 0; n < count; n++) result[n] = target.ClassFor(n, scores.AsSpan(n * classes, classes));
        return result;
    }

    /// <summary>
    /// The images [N, C, H, W] of <paramref name="input"/> on the host, their classes, and ∂y^c/∂x at each of them (no
    /// perturbation): what saliency, Deconvnet and input × gradient start from.
    /// </summary>
    protected (float[] Images, float[] Gradients, int[] Classes) GradientsAtTheImages(CamExplainer explainer, Tensor input, CamTarget target,
        int batchSize, Action<NanoCam.Autodiff.Tape>? configure = null)
    {
        var (n, c, h, w) = (input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3]);
        int size = c * h * w;
        var x = input.ToArray();
        var classes = ClassesOf(explainer, input, target);
        var (gradients, _) = InputGradients(explainer, n, c, h, w, (i, image) => x.AsSpan(i * size, size).CopyTo(image), i => classes[i], batchSize, configure);
        return (x, gradients, classes);
    }

    /// <summary>An input's [N, C, H, W] as the result's dimensions.</summary>
    protected static AttributionResult ResultOf(Tensor input, float[] values, int[] classes) =>
        new(values, input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3], classes);

    /// <summary>
    /// ∂y^c/∂x for <paramref name="count"/> images [C, H, W] made by <paramref name="fill"/>(i, image), image i explained
    /// for class <paramref name="classOf"/>(i), run <paramref name="batchSize"/> at a time: the gradients [count, C, H, W]
    /// and the scores y^c of each image. <paramref name="configure"/> may change backward rules (Deconvnet's ReLU).
    /// </summary>
    protected static (float[] Gradients, float[] TargetScores) InputGradients(CamExplainer explainer, int count, int channels, int height, int width,
        Action<int, Span<float>> fill, Func<int, int> classOf, int batchSize, Action<NanoCam.Autodiff.Tape>? configure = null)
    {
        int size = channels * height * width;
        var gradients = new float[count * size];
        var targetScores = new float[count];
        for (int first = 0; first < count; first += batchSize)
        {
            int length = Math.Min(batchSize, count - first);
            var images = new float[length * size];
            var classes = new int[length];
            for (int b = 0; b < length; b++)
            {
                fill(first + b, images.AsSpan(b * size, size));
                classes[b] = classOf(first + b);
            }
            var capture = explainer.CaptureAtInput(Tensor.FromArray(images, length, channels, height, width), CamTarget.PerImage(classes), configure: configure);
            capture.Gradients!.AsSpan().CopyTo(gradients.AsSpan(first * size, length * size));
            for (int b = 0; b < length; b++) targetScores[first + b] = capture.Scores[b * capture.Classes + classes[b]];
        }
        return (gradients, targetScores);
    }
}

/// <summary>
/// Input-space attributions [N, C, H, W] (the model's input layout, not normalized) and the class explained for each
/// image; <see cref="CompletenessError"/> is Integrated Gradients' Σ attribution − (y^c(x) − y^c(x′)) per image.
/// </summary>
public sealed record AttributionResult(float[] Values, int Batch, int Channels, int Height, int Width, int[] TargetClasses)
{
    /// <summary>Image n, [C, H, W].</summary>
    public ReadOnlySpan<float> Of(int n) => Values.AsSpan(n * Channels * Height * Width, Channels * Height * Width);

    /// <summary>Per image, Σ attribution − (y^c(x) − y^c(baseline)); null for methods without a completeness axiom.</summary>
    public double[]? CompletenessError { get; init; }
}
