namespace NanoCam.Explain.Methods;

/// <summary>
/// SmoothGrad (Smilkov et al. 2017, eq. 3): M̂_c(x) = (1/n) Σ_{i=1..n} ∂y^c/∂x at x + N(0, σ²), with σ = noise · (max − min)
/// of the image (the paper's noise level, 10–20 %). The squared variant averages (∂y^c/∂x)² instead (SmoothGrad-Squared of
/// Hooker et al. 2019, Captum's "smoothgrad_sq"). The n noisy copies run <paramref name="batchSize"/> per pass.
/// </summary>
public sealed class SmoothGrad(int samples = 16, float noise = 0.15f, bool squared = false, int seed = 0, int batchSize = 32) : InputAttribution
{
    public int Samples { get; } = samples >= 1 ? samples : throw new ArgumentOutOfRangeException(nameof(samples), samples, "SmoothGrad needs at least 1 sample");

    public float Noise { get; } = noise >= 0 && float.IsFinite(noise) ? noise : throw new ArgumentOutOfRangeException(nameof(noise), noise, "the noise level must be 0 or positive");

    public bool Squared { get; } = squared;

    public override string Name => Squared ? "smoothgrad-sq" : "smoothgrad";

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var (n, c, h, w) = (input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3]);
        int size = c * h * w, samples = Samples;
        var x = input.ToArray();
        var classes = ClassesOf(explainer, input, target);
        var sigma = new float[n];
        for (int i = 0; i < n; i++)
        {
            var image = x.AsSpan(i * size, size);
            float min = float.MaxValue, max = float.MinValue;
            foreach (var v in image) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
            sigma[i] = Noise * (max - min);
        }
        var (gradients, _) = InputGradients(explainer, n * samples, c, h, w, (j, image) =>
        {
            int i = j / samples;
            x.AsSpan(i * size, size).CopyTo(image);
            // Each sample's noise is fixed by (seed, image, sample): every run, in any process, gives the same map.
            MapOps.AddGaussianNoise(new Random(NoiseTunnel.StreamSeed(seed, i, j % samples)), image, sigma[i]);
        }, j => classes[j / samples], batchSize);

        var values = new float[n * size];
        for (int j = 0; j < n * samples; j++)
        {
            var g = gradients.AsSpan(j * size, size);
            var into = values.AsSpan(j / samples * size, size);
            for (int v = 0; v < size; v++) into[v] += (Squared ? g[v] * g[v] : g[v]) / samples;
        }
        return new AttributionResult(values, n, c, h, w, classes);
    }
}
