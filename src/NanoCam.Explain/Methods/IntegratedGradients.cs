using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Methods;

/// <summary>What Integrated Gradients integrates from: the all-zero model input, a blurred copy of the image, or uniform noise.</summary>
public enum IntegrationBaseline
{
    /// <summary>x′ = 0 in the model's input space (Captum's default; with normalized inputs, the training mean colour).</summary>
    Zero,
    /// <summary>x′ = the image under a Gaussian blur of σ = 5 px at 224 px, scaled (the insertion metric's substrate).</summary>
    Blur,
    /// <summary>x′ uniform in [min, max] of the image, seeded.</summary>
    UniformNoise,
    /// <summary>x′ = a black image: in each channel the model-input value of a 0 pixel (given; the zero input when not).</summary>
    Black,
}

/// <summary>
/// Integrated Gradients (Sundararajan et al. 2017, eq. 1 and its Riemann approximation, eq. 3):
/// IG_i(x) = (x_i − x′_i) · (1/m) Σ_{k=1..m} ∂y^c/∂x_i at x′ + (k/m)(x − x′).
/// Completeness: Σ_i IG_i = y^c(x) − y^c(x′) as m → ∞; the result reports the error of the sum per image
/// (<see cref="AttributionResult.CompletenessError"/>). The m interpolated images run <paramref name="batchSize"/> per pass.
/// </summary>
/// <param name="black">With <see cref="IntegrationBaseline.Black"/>: per channel, the model-input value of a black pixel
/// (−mean/std after normalization); null means 0.</param>
public sealed class IntegratedGradients(int steps = 32, IntegrationBaseline baseline = IntegrationBaseline.Zero, int seed = 0, int batchSize = 32, float[]? black = null) : InputAttribution
{
    public int Steps { get; } = steps >= 1 ? steps : throw new ArgumentOutOfRangeException(nameof(steps), steps, "Integrated Gradients needs at least 1 step");

    public IntegrationBaseline Baseline { get; } = baseline;

    public override string Name => "integrated-gradients";

    /// <summary>The baseline x′ [C, H, W] of one image.</summary>
    public float[] BaselineOf(ReadOnlySpan<float> image, int channels, int height, int width, int imageIndex)
    {
        switch (Baseline)
        {
            case IntegrationBaseline.Zero:
                return new float[image.Length];
            case IntegrationBaseline.Black:
            {
                var reference = new float[image.Length];
                int plane = height * width;
                if (black is not null)
                {
                    if (black.Length != channels) throw new ArgumentException($"the black baseline has {black.Length} channel value(s) for {channels} input channel(s)");
                    for (int c = 0; c < channels; c++) reference.AsSpan(c * plane, plane).Fill(black[c]);
                }
                return reference;
            }
            case IntegrationBaseline.Blur:
                return DeletionInsertion.GaussianBlur(image.ToArray(), channels, height, width, DeletionInsertion.BlurSigma(width));
            default:
                float min = float.MaxValue, max = float.MinValue;
                foreach (var v in image) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
                var rng = new Random(NoiseTunnel.StreamSeed(seed, imageIndex, 0));
                var noise = new float[image.Length];
                for (int i = 0; i < noise.Length; i++) noise[i] = min + (max - min) * (float)rng.NextDouble();
                return noise;
        }
    }

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var (n, c, h, w) = (input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3]);
        int size = c * h * w, m = Steps;
        var x = input.ToArray();
        var classes = ClassesOf(explainer, input, target);
        var baselines = new float[n * size];
        for (int i = 0; i < n; i++) BaselineOf(x.AsSpan(i * size, size), c, h, w, i).CopyTo(baselines.AsSpan(i * size, size));

        // Path point (image i, step k): x′ + (k/m)(x − x′), k = 1..m; and k = 0 (the baseline itself) for y^c(x′).
        var (gradients, scores) = InputGradients(explainer, n * (m + 1), c, h, w, (j, image) =>
        {
            int i = j / (m + 1), k = j % (m + 1);
            float alpha = (float)k / m;
            var xi = x.AsSpan(i * size, size);
            var bi = baselines.AsSpan(i * size, size);
            for (int v = 0; v < size; v++) image[v] = bi[v] + alpha * (xi[v] - bi[v]);
        }, j => classes[j / (m + 1)], batchSize);

        var attributions = new float[n * size];
        var completeness = new double[n];
        for (int i = 0; i < n; i++)
        {
            var sum = new double[size];
            for (int k = 1; k <= m; k++)
            {
                var g = gradients.AsSpan((i * (m + 1) + k) * size, size);
                for (int v = 0; v < size; v++) sum[v] += g[v];
            }
            double total = 0;
            for (int v = 0; v < size; v++)
            {
                float a = (float)((x[i * size + v] - baselines[i * size + v]) * sum[v] / m);
                attributions[i * size + v] = a;
                total += a;
            }
            // Σ IG − (y^c(x) − y^c(x′)): y^c(x) at k = m, y^c(x′) at k = 0.
            completeness[i] = total - (scores[i * (m + 1) + m] - scores[i * (m + 1)]);
        }
        return new AttributionResult(attributions, n, c, h, w, classes) { CompletenessError = completeness };
    }
}
