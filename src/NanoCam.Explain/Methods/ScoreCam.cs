namespace NanoCam.Explain.Methods;

/// <summary>Whose conventions Score-CAM follows: they differ in the masks and in how the scores become weights.</summary>
public enum ScoreCamConvention
{
    /// <summary>
    /// pytorch-grad-cam's ScoreCAM (score_cam.py): A^k upsampled with align_corners = true, M_k = (Up(A^k) − min) /
    /// (max − min + 1e-8), and w_k^c = softmax over the channels k of the raw scores y^c(x ⊙ M_k).
    /// </summary>
    PyTorchGradCam,

    /// <summary>
    /// The authors' code (haofanwang/Score-CAM, scorecam.py) and the paper (Wang et al. 2020, eq. 6–8): A^k upsampled with
    /// half-pixel centres (align_corners = false), M_k = (Up(A^k) − min) / (max − min), and w_k^c =
    /// softmax(f(x ⊙ M_k))_c, the probability of class c among the classes.
    /// </summary>
    Authors,
}

/// <summary>
/// Base of the masked-input methods (Score-CAM and its variants): every channel A^k becomes a mask
/// M_k = s(Up(A^k)) — upsampled to the input and min–max scaled to [0, 1] (Score-CAM eq. 6–7; a flat channel gives
/// a zero mask) — and the weight of channel k comes from the scores of the target class for inputs built from x ⊙ M_k
/// (see <see cref="ScoreCamConvention"/> for the two ways). The masked inputs run through the model without gradients,
/// <see cref="BatchSize"/> at a time.
/// </summary>
public abstract class MaskedInputCam(int batchSize, ScoreCamConvention convention) : CamMethod
{
    public override bool UsesGradients => false;

    /// <summary>Masked images per forward pass.</summary>
    public int BatchSize { get; } = batchSize >= 1 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");

    /// <summary>How masks are made and scores weighed.</summary>
    public ScoreCamConvention Convention { get; } = convention;

    /// <summary>Forward passes per channel (the variants average several inputs per mask).</summary>
    protected virtual int PassesPerChannel => 1;

    /// <summary>Writes input number <paramref name="pass"/> for mask <paramref name="mask"/> [H, W] of channel k of image <paramref name="image"/> [C, H, W].</summary>
    protected abstract void MaskedInput(int n, int k, int pass, ReadOnlySpan<float> image, ReadOnlySpan<float> mask, Span<float> output);

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        int height = context.InputHeight, width = context.InputWidth, passes = PassesPerChannel;
        // One mask at a time, made when its first input is (the inputs of a channel come one after another): not the
        // K masks of the input's size at once (SqueezeNet's 1000 channels at 224×224 would take 200 MB).
        var mask = new float[height * width];
        int masked = -1;
        int count = c.Batch * c.Channels * passes;
        var scores = context.ScoresOf(count, BatchSize, (index, output) =>
        {
            int pass = index % passes, channel = index / passes, n = channel / c.Channels, k = channel % c.Channels;
            if (channel != masked) ChannelMask(c, n, k, mask, height, width, Convention);
            masked = channel;
            MaskedInput(n, k, pass, context.InputImage(n), mask, output);
        });
        for (int n = 0; n < c.Batch; n++)
        {
            var imageWeights = weights.Slice(n * c.Channels, c.Channels);
            for (int k = 0; k < c.Channels; k++)
            {
                // The mean over passes of softmax(f(masked input))_c (Score-CAM eq. 8 with one pass), or of y^c.
                float sum = 0f;
                for (int pass = 0; pass < passes; pass++)
                {
                    var row = scores.AsSpan(((n * c.Channels + k) * passes + pass) * c.Classes, c.Classes);
                    sum += Convention == ScoreCamConvention.Authors ? MapOps.SoftmaxAt(row, c.TargetClasses[n]) : row[c.TargetClasses[n]];
                }
                imageWeights[k] = sum / passes;
            }
            // pytorch-grad-cam: w_k^c = e^{y^c_k} / Σ_j e^{y^c_j} over the channels j of this image.
            if (Convention == ScoreCamConvention.PyTorchGradCam) MapOps.Softmax(imageWeights, imageWeights);
        }
    }

    /// <summary>Mask scaling ε of pytorch-grad-cam's ScoreCAM.</summary>
    public const float PyTorchGradCamMaskEpsilon = 1e-8f;

    /// <summary>
    /// M_k = (Up(A^k) − min) / (max − min (+ 1e-8 for pytorch-grad-cam)), zeros for a flat channel (Score-CAM eq. 6–7);
    /// Up samples with align_corners = true for pytorch-grad-cam, half-pixel centres for the authors' code.
    /// </summary>
    public static void ChannelMask(LayerCapture capture, int n, int k, Span<float> mask, int height, int width, ScoreCamConvention convention)
    {
        var activations = capture.ActivationPlane(n, k);
        if (convention == ScoreCamConvention.PyTorchGradCam)
        {
            MapOps.UpsampleAlignCorners(activations, capture.Height, capture.Width, mask, height, width);
            MapOps.MinMaxNormalize(mask, mask, PyTorchGradCamMaskEpsilon);
        }
        else
        {
            MapOps.Upsample(activations, capture.Height, capture.Width, mask, height, width);
            MapOps.MinMaxNormalize(mask, mask); // in place: min and max are read before any value is written
        }
    }

    /// <summary>output[c, p] = image[c, p] · scale · mask[p] for every input channel c.</summary>
    protected static void Multiply(ReadOnlySpan<float> image, ReadOnlySpan<float> mask, float scale, Span<float> output)
    {
        for (int offset = 0; offset < image.Length; offset += mask.Length)
            for (int p = 0; p < mask.Length; p++) output[offset + p] = image[offset + p] * scale * mask[p];
    }
}

/// <summary>
/// Score-CAM (Wang et al. 2020, eq. 8): map = ReLU(Σ_k w_k^c A^k), where channel k is worth the score that the input it
/// highlights alone, x ⊙ M_k, earns. Needs no gradient; K forward passes per image. By default the weights are
/// pytorch-grad-cam's, w_k^c = softmax_k(y^c(x ⊙ M_k)) with align-corners masks; <see cref="ScoreCamConvention.Authors"/>
/// gives the paper's w_k^c = softmax(f(x ⊙ M_k))_c with half-pixel masks (docs/pytorch-grad-cam-parity.md).
/// </summary>
public sealed class ScoreCam(int batchSize = 32, ScoreCamConvention convention = ScoreCamConvention.PyTorchGradCam)
    : MaskedInputCam(batchSize, convention)
{
    public override string Name => "scorecam";

    protected override void MaskedInput(int n, int k, int pass, ReadOnlySpan<float> image, ReadOnlySpan<float> mask, Span<float> output) =>
        Multiply(image, mask, 1f, output);
}

/// <summary>
/// SS-CAM (Wang et al. 2020b, "smoothed Score-CAM", noise on the mask): w_k^c = (1/S) Σ_s softmax(f(x ⊙ (M_k + ε_s)))_c,
/// ε_s ~ N(0, σ²) per pixel. The noise for (image n, channel k, sample s) comes from <c>new Random(<see cref="NoiseSeed"/>)</c>.
/// σ = 0 gives Score-CAM with <see cref="ScoreCamConvention.Authors"/>.
/// Checked against the paper: the noise goes on the normalized, upsampled mask (the paper's first variant; its second
/// adds it to the input), one fresh draw per sample, and the scores are averaged over the samples — as torch-cam's
/// SSCAM does. Our defaults differ: torch-cam draws S = 35 samples with σ = 2, which on a mask in [0, 1] buries the
/// mask in noise and costs 35·K passes per image; we use S = 10, σ = 0.3 (both settable). The score is the paper's
/// softmax probability of the class (torch-cam takes the pre-softmax score minus the baseline's, then a softmax over channels),
/// with the masks of the authors' code (<see cref="ScoreCamConvention.Authors"/>).
/// </summary>
public sealed class SmoothedScoreCam(int samples = 10, float sigma = 0.3f, int seed = 0, int batchSize = 32)
    : MaskedInputCam(batchSize, ScoreCamConvention.Authors)
{
    public override string Name => "sscam";

    public int Samples { get; } = samples >= 1 ? samples : throw new ArgumentOutOfRangeException(nameof(samples), samples, "at least one sample");
    public float Sigma { get; } = sigma;
    public int Seed { get; } = seed;

    protected override int PassesPerChannel => Samples;

    /// <summary>The seed of the noise added to mask k of image n for sample s.</summary>
    public int NoiseSeed(int n, int k, int sample) => unchecked(Seed * 1_000_003 + (n * 65_537 + k) * 977 + sample);

    protected override void MaskedInput(int n, int k, int pass, ReadOnlySpan<float> image, ReadOnlySpan<float> mask, Span<float> output)
    {
        // The noisy mask is built in the output's last plane (no allocation per pass), then every input channel is
        // multiplied by it, the last one in place: output[C−1, p] is read before it is overwritten.
        var noisy = output[^mask.Length..];
        mask.CopyTo(noisy);
        MapOps.AddGaussianNoise(new Random(NoiseSeed(n, k, pass)), noisy, Sigma);
        for (int offset = 0; offset < image.Length; offset += mask.Length)
            for (int p = 0; p < mask.Length; p++) output[offset + p] = image[offset + p] * noisy[p];
    }
}

/// <summary>
/// IS-CAM (Naidu et al. 2020, integrated Score-CAM): the mask is scaled along a path from 0 to M_k in
/// <see cref="Steps"/> steps and the scores are averaged, w_k^c = (1/m) Σ_{i=1}^{m} softmax(f(x ⊙ (i/m)·M_k))_c —
/// a Riemann sum of the score along the path, as integrated gradients integrates the gradient. m = 1 gives Score-CAM with
/// <see cref="ScoreCamConvention.Authors"/>.
/// A deliberate difference from the reference implementation: torch-cam's ISCAM (whose docstring gives the paper's mask
/// as M_i = Σ_{j&lt;i} (j/N)·M_k) accumulates the scale, coefficient Σ_{j≤i} j/N, so its last inputs are x ⊙ M_k
/// multiplied by up to (N + 1)/2 — 5.5 at N = 10, far outside the range of the images the network was trained on. We
/// keep the straight path from 0 to x ⊙ M_k that the paper's integration (after Sundararajan et al.) describes: scales
/// 1/m, 2/m, …, 1, each input within the image's own range. Both average the m scores. Scores and masks follow the
/// authors' Score-CAM (<see cref="ScoreCamConvention.Authors"/>).
/// </summary>
public sealed class IntegratedScoreCam(int steps = 10, int batchSize = 32) : MaskedInputCam(batchSize, ScoreCamConvention.Authors)
{
    public override string Name => "iscam";

    public int Steps { get; } = steps >= 1 ? steps : throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least one step");

    protected override int PassesPerChannel => Steps;

    protected override void MaskedInput(int n, int k, int pass, ReadOnlySpan<float> image, ReadOnlySpan<float> mask, Span<float> output) =>
        Multiply(image, mask, (pass + 1f) / Steps, output);
}
