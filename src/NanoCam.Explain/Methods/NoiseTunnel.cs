namespace NanoCam.Explain.Methods;

/// <summary>
/// SmoothGrad-style noise averaging around any explanation method (Smilkov et al. 2017, eq. 3; Captum's NoiseTunnel):
/// M̂(x) = (1/N) Σ_{i=1..N} M(x + ε_i), ε_i ~ N(0, σ²) per value with σ = <see cref="Noise"/>·(max − min) of the image
/// (a fraction of its value range, as <see cref="SmoothGrad"/>). The N noisy copies of every image run as one batch
/// [images·N, C, H, W] (the explainer splits it into passes as memory allows), each copy explained for the class its image
/// has; the maps (the unnormalized upsampled CAM, the fused maximum, or an input-space method's raw attributions) are
/// averaged per image, then the CAM family is min–max normalized as usual. Noise 0 gives the plain map.
/// </summary>
public sealed class NoiseTunnel(int samples, float noise, int seed = 0)
{
    /// <summary>N, the noisy copies of each image.</summary>
    public int Samples { get; } = samples >= 1 ? samples : throw new ArgumentOutOfRangeException(nameof(samples), samples, "the noise tunnel needs at least 1 sample");

    /// <summary>σ as a fraction of each image's value range (max − min).</summary>
    public float Noise { get; } = float.IsFinite(noise) && noise >= 0 ? noise : throw new ArgumentOutOfRangeException(nameof(noise), noise, "the noise level must be 0 or positive");

    /// <summary>The seed: copy s of image i draws its noise from (seed, i, s), so a run is reproducible.</summary>
    public int Seed { get; } = seed;

    /// <summary>The noisy copies [images·N, C, H, W] of <paramref name="input"/>: copy j is image j / N plus its noise.</summary>
    public Tensor NoisyCopies(Tensor input)
    {
        if (input.Shape.Rank != 4) throw new ArgumentException($"the noise tunnel needs images [N, C, H, W], got {input.Shape}");
        int images = input.Shape[0], size = input.Size / Math.Max(1, images);
        var x = input.ToArray();
        var copies = new float[images * Samples * size];
        for (int i = 0; i < images; i++)
        {
            var image = x.AsSpan(i * size, size);
            float min = float.MaxValue, max = float.MinValue;
            foreach (var v in image) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
            float sigma = Noise * (max - min);
            for (int s = 0; s < Samples; s++)
            {
                var copy = copies.AsSpan((i * Samples + s) * size, size);
                image.CopyTo(copy);
                MapOps.AddGaussianNoise(new Random(StreamSeed(Seed, i, s)), copy, sigma);
            }
        }
        return Tensor.FromArray(copies, [images * Samples, .. input.Shape.Dims[1..]]);
    }

    /// <summary>
    /// The seed of copy <paramref name="sample"/> of image <paramref name="image"/>: a fixed mix (SplitMix64's finalizer) of the
    /// three numbers — the same in every process, unlike <see cref="HashCode"/>, whose seed is drawn per process.
    /// </summary>
    public static int StreamSeed(int seed, int image, int sample)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)image * 0xBF58476D1CE4E5B9UL + (ulong)(uint)sample * 0x94D049BB133111EBUL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>
    /// The target of the copies: each explained for the class its image gets on one plain pass of <paramref name="input"/>
    /// (so that noise does not change a "top prediction"); a score function is still read on the copy's own scores.
    /// </summary>
    public CamTarget TargetOfCopies(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var scores = explainer.ScoresOf(input);
        int images = input.Shape[0], classes = explainer.Model.Classes;
        var found = new int[images];
        for (int i = 0; i < images; i++) found[i] = target.ClassFor(i, scores.AsSpan(i * classes, classes));
        return new PinnedTarget(target, found, Samples);
    }

    /// <summary>values [images·N, size] → their means over each image's N copies [images, size] (summed in double).</summary>
    public float[] Average(ReadOnlySpan<float> values, int images)
    {
        int size = values.Length / (images * Samples);
        var sums = new double[images * size];
        for (int j = 0; j < images * Samples; j++)
        {
            var copy = values.Slice(j * size, size);
            int offset = j / Samples * size;
            for (int v = 0; v < size; v++) sums[offset + v] += copy[v];
        }
        var means = new float[sums.Length];
        for (int v = 0; v < sums.Length; v++) means[v] = (float)(sums[v] / Samples);
        return means;
    }

    /// <summary>A CAM method's map averaged over the noisy copies, at <paramref name="layer"/> (null: the method's default).</summary>
    public SmoothedMaps Explain(CamExplainer explainer, CamMethod method, Tensor input, CamTarget target, string? layer = null, ExplainOptions? options = null)
    {
        var copiesTarget = TargetOfCopies(explainer, input, target);
        var result = explainer.Explain(method, NoisyCopies(input), copiesTarget, layer, options);
        var warnings = explainer.Warnings.Where(w => !w.Contains(" is flat ", StringComparison.Ordinal)).Distinct().ToList();
        var smoothed = Finish(method.Name, Average(result.Upsampled, input.Shape[0]), ClassesOf(copiesTarget, input.Shape[0]), result.InputHeight, result.InputWidth, options, warnings);
        explainer.Warnings.Clear();
        explainer.Warnings.AddRange(warnings);
        return smoothed;
    }

    /// <summary>A multi-layer fused map (<see cref="LayerFusion.Explain"/>) averaged over the noisy copies: the mean of the maxima, normalized.</summary>
    public SmoothedMaps ExplainFused(CamExplainer explainer, CamMethod method, Tensor input, CamTarget target, IReadOnlyList<string> layers, ExplainOptions? options = null)
    {
        var copiesTarget = TargetOfCopies(explainer, input, target);
        var fused = LayerFusion.Explain(explainer, method, NoisyCopies(input), copiesTarget, layers, options);
        var warnings = explainer.Warnings.Where(w => !w.Contains(" is flat ", StringComparison.Ordinal)).Distinct().ToList();
        var smoothed = Finish(method.Name, Average(fused.Maximum, input.Shape[0]), ClassesOf(copiesTarget, input.Shape[0]), fused.InputHeight, fused.InputWidth, options, warnings);
        explainer.Warnings.Clear();
        explainer.Warnings.AddRange(warnings);
        return smoothed;
    }

    /// <summary>An input-space method's attributions averaged over the noisy copies (for SmoothGrad itself: noise on noise).</summary>
    public AttributionResult Explain(CamExplainer explainer, InputAttribution method, Tensor input, CamTarget target)
    {
        var copiesTarget = TargetOfCopies(explainer, input, target);
        var result = method.Explain(explainer, NoisyCopies(input), copiesTarget);
        int images = input.Shape[0];
        return new AttributionResult(Average(result.Values, images), images, result.Channels, result.Height, result.Width, ClassesOf(copiesTarget, images));
    }

    private static int[] ClassesOf(CamTarget target, int images) => ((PinnedTarget)target).Classes[..images];

    /// <summary>Min–max normalizes each averaged map (unless raw), naming the flat ones.</summary>
    private static SmoothedMaps Finish(string name, float[] raw, int[] classes, int height, int width, ExplainOptions? options, List<string> warnings)
    {
        int plane = height * width, images = raw.Length / plane;
        var normalized = new float[raw.Length];
        var flat = new bool[images];
        for (int i = 0; i < images; i++)
        {
            flat[i] = !MapOps.MinMaxNormalize(raw.AsSpan(i * plane, plane), normalized.AsSpan(i * plane, plane));
            if (flat[i]) warnings.Add($"{name}: the smoothed map of image {i} (class {classes[i]}) is flat (max = min); it is returned {(options?.Raw == true ? "unscaled" : "as zeros")}");
        }
        if (options?.Raw == true) raw.CopyTo(normalized, 0);
        return new SmoothedMaps(raw, normalized, classes, height, width, flat);
    }
}

/// <summary>
/// Maps averaged over noisy copies: <paramref name="Raw"/> the mean unnormalized maps [images, H, W], <paramref name="Normalized"/>
/// those min–max scaled (or the raw ones with <see cref="ExplainOptions.Raw"/>), and the class each image was explained for.
/// </summary>
public sealed record SmoothedMaps(float[] Raw, float[] Normalized, int[] TargetClasses, int InputHeight, int InputWidth, bool[] FlatMaps)
{
    /// <summary>The normalized map of image n, [H, W].</summary>
    public ReadOnlySpan<float> NormalizedOf(int n) => Normalized.AsSpan(n * InputHeight * InputWidth, InputHeight * InputWidth);
}
