namespace NanoCam.Data;

/// <summary>How a <see cref="DataLoader"/> orders, augments and normalizes examples.</summary>
public sealed record DataLoaderOptions
{
    /// <summary>Reorder the examples every epoch (permutation from (Seed, epoch)).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the shuffles and augmentations.</summary>
    public int Seed { get; init; }

    /// <summary>Per-channel mean subtracted after augmentation: x' = (x − mean_c) / std_c. Null: no normalization.</summary>
    public float[]? Mean { get; init; }

    /// <summary>Per-channel standard deviation (null with a mean: 1).</summary>
    public float[]? Std { get; init; }

    /// <summary>Random crop with zero padding: shift each image by up to ±CropPadding pixels in x and y (0: off).</summary>
    public int CropPadding { get; init; }

    /// <summary>Mirror each image left–right with probability ½.</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>Drop the last partial batch instead of returning it as a smaller batch.</summary>
    public bool DropLast { get; init; }

    /// <summary>Worker threads filling a batch (≤ 1: fill on the calling thread). Results do not depend on it.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Options for evaluation: fixed order, no augmentation.</summary>
    public static DataLoaderOptions Evaluation => new() { Shuffle = false };
}
