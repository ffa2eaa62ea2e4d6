using System.Globalization;

namespace NanoCam.Cli.Shared;

/// <summary>
/// One of N deterministic slices of a data set (<c>--shard I/N</c>): the data is cut into chunks of consecutive images,
/// chunk k = images [k·chunk, (k+1)·chunk), and shard I owns the chunks with k mod N = I (round robin).
/// </summary>
public readonly record struct ShardSpec(int Index, int Count)
{
    /// <summary>The whole data set as one shard.</summary>
    public static ShardSpec Whole => new(0, 1);

    /// <summary>"I/N" with 0 ≤ I &lt; N; anything else is an <see cref="ArgumentException"/> in one line.</summary>
    public static ShardSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            throw new ArgumentException($"--shard '{text}' is not I/N (for example 0/4: the first of 4 shards)");
        if (count < 1) throw new ArgumentException($"--shard '{text}': N must be at least 1");
        if (index >= count) throw new ArgumentException($"--shard '{text}': I must be in 0…{count - 1} (shards are numbered from 0)");
        return new ShardSpec(index, count);
    }

    /// <summary>Whether chunk <paramref name="chunk"/> is this shard's.</summary>
    public bool Owns(int chunk) => chunk % Count == Index;

    /// <summary>The chunks of this shard among <paramref name="chunks"/>, in order.</summary>
    public IEnumerable<int> ChunksOf(int chunks) => Enumerable.Range(0, chunks).Where(Owns);

    public override string ToString() => $"{Index}/{Count}";
}
