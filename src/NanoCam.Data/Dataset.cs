namespace NanoCam.Data;

/// <summary>A labelled image classification dataset: examples addressed by index, images written as planar CHW floats.</summary>
public abstract class Dataset
{
    public abstract int Count { get; }

    public abstract IReadOnlyList<string> ClassNames { get; }

    public abstract int Channels { get; }

    public abstract int Height { get; }

    public abstract int Width { get; }

    /// <summary>Values per image: C·H·W.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>A short description for logs, e.g. "shapes (6000 × 3×64×64, seed 1)".</summary>
    public virtual string Description => $"{GetType().Name} ({Count} × {Channels}×{Height}×{Width})";

    /// <summary>Writes example <paramref name="index"/> as CHW floats (usually in [0, 1]) into <paramref name="chw"/>.</summary>
    public abstract void GetImage(int index, Span<float> chw);

    /// <summary>The class index of example <paramref name="index"/>, in [0, ClassNames.Count).</summary>
    public abstract int GetLabel(int index);

    /// <summary>The ground-truth box of the target object, if the dataset knows it.</summary>
    public virtual Box? GetBox(int index) => null;

    /// <summary>Allocates and returns example <paramref name="index"/> as CHW floats.</summary>
    public float[] GetImage(int index)
    {
        var chw = new float[ImageSize];
        GetImage(index, chw);
        return chw;
    }

    protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is outside [0, {Count})");
    }

    protected void CheckDestination(Span<float> chw)
    {
        if (chw.Length < ImageSize) throw new ArgumentException($"destination holds {chw.Length} values, an image needs {ImageSize}", nameof(chw));
    }
}
