namespace NanoCam;

/// <summary>
/// A stateless counter-based random generator: the n-th number depends only on (seed, n), so every backend
/// (and every thread) draws the same dropout mask. SplitMix64's finalizer (Steele, Lea, Flood 2014) as the mixer.
/// </summary>
public static class CounterRng
{
    public static ulong Hash(ulong seed, ulong counter)
    {
        ulong z = seed + (counter + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A float uniform in [0, 1) from the top 24 bits of the hash.</summary>
    public static float Uniform(ulong seed, ulong counter) => (Hash(seed, counter) >> 40) * (1f / (1 << 24));
}
