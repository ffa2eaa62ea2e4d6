using NanoCam.Autodiff;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;

namespace NanoCam.Nn.Training;

/// <summary>Writes the object's pixel coverage in [0, 1] (H×W, row-major) of dataset image <paramref name="index"/>.</summary>
public delegate void MaskSource(int index, Span<float> coverage);

/// <summary>
/// The loss of a network with a dense output (<see cref="IDenseModel"/>), built from the ground truth of the batch's
/// images — each image's class and object mask — rather than from its class alone. <see cref="TrainingStep"/> uses one in
/// place of the classifier's cross-entropy.
/// </summary>
public abstract class DenseObjective(MaskSource masks, int height, int width)
{
    private float[] _coverage = [];

    /// <summary>Input height in pixels.</summary>
    public int Height { get; } = height;

    /// <summary>Input width in pixels.</summary>
    public int Width { get; } = width;

    /// <summary>Records the batch's loss (a scalar) on <paramref name="tape"/>; Hits counts the images whose prediction is right (IoU ≥ 0.5 with the truth).</summary>
    public abstract (Tensor Loss, int Hits) Loss(Tape tape, Tensor images, ReadOnlySpan<float> labels, ReadOnlySpan<int> indices);

    /// <summary>The objective that trains <paramref name="model"/>, or null for a classifier.</summary>
    public static DenseObjective? For(Module model, MaskSource masks, int height, int width) => model switch
    {
        SegmentationFcn segmentation => new SegmentationLoss(segmentation, masks, height, width),
        GridDetector detector => new GridDetectionLoss(detector, masks, height, width),
        _ => null,
    };

    /// <summary>The masks of the batch's images, [B·H·W], in a buffer reused from step to step.</summary>
    protected ReadOnlySpan<float> Masks(ReadOnlySpan<int> indices)
    {
        int plane = Height * Width;
        if (_coverage.Length < indices.Length * plane) _coverage = new float[indices.Length * plane];
        for (int b = 0; b < indices.Length; b++) masks(indices[b], _coverage.AsSpan(b * plane, plane));
        return _coverage.AsSpan(0, indices.Length * plane);
    }
}
