namespace NanoCam.Data;

/// <summary>A small sequential generator (SplitMix64, Steele, Lea &amp; Flood 2014) seeded per example, so every example draws the same numbers on any thread.</summary>
internal struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>A generator for item <paramref name="index"/> of stream <paramref name="seed"/>: state = Hash(seed, index).</summary>
    public static SplitMix64 For(long seed, long index) => new(CounterRng.Hash((ulong)seed, (ulong)index));

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) from the top 24 bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [min, max).</summary>
    public float NextFloat(float min, float max) => min + (max - min) * NextFloat();

    /// <summary>Uniform integer in [0, n) by multiply-shift (Lemire 2019) of the top 32 bits.</summary>
    public int NextInt(int n) => (int)(((NextUInt64() >> 32) * (ulong)n) >> 32);

    /// <summary>Uniform integer in [min, max] inclusive.</summary>
    public int NextInt(int min, int max) => min + NextInt(max - min + 1);
}
