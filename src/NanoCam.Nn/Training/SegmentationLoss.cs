using NanoCam.Autodiff;
using NanoCam.Elementwise;
using NanoCam.Nn.Models;
using NanoCam.Ops;

namespace NanoCam.Nn.Training;

/// <summary>
/// Class-balanced per-pixel cross-entropy of a <see cref="SegmentationFcn"/> (FCN, Long et al. 2015, Sec. 3, with the
/// median-frequency-style balancing of Eigen and Fergus 2015 reduced to two groups):
/// L = −Σ_{n,p} w_{n,p} log softmax(y_{n,·,p})[t_{n,p}], the pixel's label t = the image's class where the object covers
/// at least half of the pixel, background (K) elsewhere, and w = 1/(2·|object pixels|) on object pixels,
/// 1/(2·|background pixels|) on the others, so the small objects weigh as much as the background they sit on (plain
/// cross-entropy learns "all background" first and stays there for long). A hit is an image whose predicted class-t
/// region has IoU ≥ 0.5 with the object's mask.
/// </summary>
public sealed class SegmentationLoss(SegmentationFcn model, MaskSource masks, int height, int width) : DenseObjective(masks, height, width)
{
    private float[] _weights = [], _logits = [];
    private Tensor? _weightTensor;

    public override (Tensor Loss, int Hits) Loss(Tape tape, Tensor images, ReadOnlySpan<float> labels, ReadOnlySpan<int> indices)
    {
        var logits = model.Call(tape, images);
        int n = logits.Shape[0], maps = logits.Shape[1], plane = logits.Shape[2] * logits.Shape[3];
        var coverage = Masks(indices);
        int objectPixels = 0;
        foreach (float c in coverage) if (c >= DenseQuality.Inside) objectPixels++;
        float objectWeight = 0.5f / Math.Max(objectPixels, 1), backgroundWeight = 0.5f / Math.Max(n * plane - objectPixels, 1);
        // W [N·H·W, K + 1]: w_{n,p} at the pixel's label t_{n,p}, 0 elsewhere, so Σ W ⊙ log softmax = Σ w log softmax[t].
        if (_weights.Length != n * plane * maps) _weights = new float[n * plane * maps];
        Array.Clear(_weights);
        for (int b = 0; b < n; b++)
            for (int p = 0; p < plane; p++)
            {
                bool inside = coverage[b * plane + p] >= DenseQuality.Inside;
                _weights[(b * plane + p) * maps + (inside ? (int)labels[b] : model.Background)] = inside ? objectWeight : backgroundWeight;
            }
        var weights = tape.Kernels.Stage(Tensor.FromArray(_weights, n * plane, maps), ref _weightTensor);
        // [N, K + 1, H, W] → [N·H·W, K + 1]: one row of logits per pixel.
        var rows = tape.Reshape(tape.Transpose(logits, [0, 2, 3, 1]), [n * plane, maps]);
        var loss = tape.Unary(tape.Sum(tape.Mul(tape.LogSoftmax(rows, axis: 1), weights)), new Scale(-1f));

        if (_logits.Length != logits.Size) _logits = new float[logits.Size];
        logits.Buffer.CopyTo(_logits);
        int hits = 0;
        for (int b = 0; b < n; b++)
            if (DenseQuality.MaskIoU(_logits.AsSpan(b * maps * plane, maps * plane), maps, (int)labels[b], coverage.Slice(b * plane, plane)) >= 0.5f) hits++;
        return (loss, hits);
    }
}
