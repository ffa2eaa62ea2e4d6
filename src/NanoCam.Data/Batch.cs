namespace NanoCam.Data;

/// <summary>One mini-batch: images [B, C, H, W], labels [B] (class indices stored as floats), and the dataset indices used.</summary>
public sealed class Batch
{
    internal Batch(int size, int channels, int height, int width)
    {
        Images = Tensor.Zeros(size, channels, height, width);
        Labels = Tensor.Zeros(size);
        Indices = new int[size];
    }

    /// <summary>[B, C, H, W]; reused by the loader, so valid until the next batch of the same size.</summary>
    public Tensor Images { get; }

    /// <summary>[B] class indices as floats.</summary>
    public Tensor Labels { get; }

    /// <summary>The dataset index of each row.</summary>
    public int[] Indices { get; }

    /// <summary>B.</summary>
    public int Count => Indices.Length;
}
