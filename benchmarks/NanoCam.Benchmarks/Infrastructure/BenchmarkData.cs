namespace NanoCam.Benchmarks.Infrastructure;

/// <summary>Deterministic inputs for the benchmarks: the same seed gives every engine the same numbers.</summary>
public static class BenchmarkData
{
    /// <summary>count values drawn uniformly from [low, high).</summary>
    public static float[] Uniform(int count, int seed, float low = -1f, float high = 1f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++) values[i] = low + (high - low) * rng.NextSingle();
        return values;
    }

    /// <summary>A host tensor of the given shape filled by <see cref="Uniform"/>.</summary>
    public static Tensor UniformTensor(int seed, params int[] dims) =>
        Tensor.FromArray(Uniform(new Shape(dims).Size, seed), dims);

    /// <summary>Integer class labels in [0, classes), stored as floats (the engine's label convention).</summary>
    public static Tensor Labels(int count, int classes, int seed)
    {
        var rng = new Random(seed);
        var labels = new float[count];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.Next(classes);
        return Tensor.FromArray(labels, count);
    }

    /// <summary>Largest |a − b| relative to the largest |b| (for the peer cross-checks in setup).</summary>
    public static float RelativeError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float maxDiff = 0, maxRef = 1e-30f;
        for (int i = 0; i < a.Length; i++)
        {
            maxDiff = MathF.Max(maxDiff, MathF.Abs(a[i] - b[i]));
            maxRef = MathF.Max(maxRef, MathF.Abs(b[i]));
        }
        return maxDiff / maxRef;
    }
}
