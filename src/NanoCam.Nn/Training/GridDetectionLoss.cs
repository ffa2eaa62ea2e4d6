using NanoCam.Autodiff;
using NanoCam.Elementwise;
using NanoCam.Nn.Models;
using NanoCam.Ops;

namespace NanoCam.Nn.Training;

/// <summary>
/// The YOLO v1 loss (Redmon et al. 2016, eq. 3) for a <see cref="GridDetector"/> with one object per image, on the raw
/// head t. The responsible cell (i, j) is the one holding the object's centre:
/// L = (1/N) Σ_n [ λ_coord ‖σ(t_xywh) − (cx/c_w − j, cy/c_h − i, w/W, h/H)‖² + Σ_cells BCE(σ(t_o), [cell responsible])
/// + CE(t_c, class) at the responsible cell ], λ_coord = 5 as in the paper; the objectness BCE is a two-way cross-entropy
/// over the logits (0, t_o), whose softmax is (1 − σ(t_o), σ(t_o)). A hit is an image whose most confident box has
/// IoU ≥ 0.5 with the object's box.
/// </summary>
public sealed class GridDetectionLoss(GridDetector model, MaskSource masks, int height, int width) : DenseObjective(masks, height, width)
{
    /// <summary>λ_coord: the weight of the box term.</summary>
    public const float CoordinateWeight = 5f;

    private float[] _boxTargets = [], _objectLabels = [], _raw = [];
    private int[] _responsible = [];
    private Tensor? _boxes, _objects, _zeros, _classes;
    private PixelBox[] _truth = [];

    public override (Tensor Loss, int Hits) Loss(Tape tape, Tensor images, ReadOnlySpan<float> labels, ReadOnlySpan<int> indices)
    {
        var raw = model.RawHead(tape, images);
        int n = raw.Shape[0], channels = raw.Shape[1], rows = raw.Shape[2], cols = raw.Shape[3], cells = rows * cols;
        float cellWidth = (float)Width / cols, cellHeight = (float)Height / rows;
        var coverage = Masks(indices);
        if (_responsible.Length != n || _objectLabels.Length != n * cells)
            (_responsible, _boxTargets, _objectLabels, _truth) = (new int[n], new float[4 * n], new float[n * cells], new PixelBox[n]);
        Array.Clear(_objectLabels);
        for (int b = 0; b < n; b++)
        {
            var box = DenseQuality.BoxOf(coverage.Slice(b * Height * Width, Height * Width), Height, Width)
                ?? throw new ArgumentException($"image {indices[b]} has no object pixel in its mask: there is no box to learn");
            _truth[b] = box;
            float cx = (box.X1 + box.X2) / 2, cy = (box.Y1 + box.Y2) / 2;
            int i = Math.Min((int)(cy / cellHeight), rows - 1), j = Math.Min((int)(cx / cellWidth), cols - 1);
            _responsible[b] = b * cells + i * cols + j;
            _objectLabels[b * cells + i * cols + j] = 1f;
            _boxTargets[4 * b] = cx / cellWidth - j;
            _boxTargets[4 * b + 1] = cy / cellHeight - i;
            _boxTargets[4 * b + 2] = (box.X2 - box.X1) / Width;
            _boxTargets[4 * b + 3] = (box.Y2 - box.Y1) / Height;
        }
        var kernels = tape.Kernels;
        // [N, 5 + K, S, S] → [N·S·S, 5 + K]: one row per cell, cells of image n at n·S·S + i·S + j.
        var cellRows = tape.Reshape(tape.Transpose(raw, [0, 2, 3, 1]), [n * cells, channels]);
        var picked = tape.Gather(cellRows, 0, _responsible);
        var boxError = tape.Sub(tape.Sigmoid(tape.Slice(picked, [0, 0], [1, 1], [n, 4])), kernels.Stage(Tensor.FromArray(_boxTargets, n, 4), ref _boxes));
        var boxLoss = tape.Unary(tape.Sum(tape.Mul(boxError, boxError)), new Scale(CoordinateWeight / n));
        var objectLogits = tape.Concat([kernels.Stage(Tensor.Zeros(n * cells, 1), ref _zeros), tape.Slice(cellRows, [0, 4], [1, 1], [n * cells, 1])], axis: 1);
        var objectLoss = tape.Unary(tape.CrossEntropy(objectLogits, kernels.Stage(Tensor.FromArray(_objectLabels, n * cells), ref _objects)), new Scale(cells));
        var classLoss = tape.CrossEntropy(tape.Slice(picked, [0, 5], [1, 1], [n, channels - 5]), kernels.Stage(Tensor.FromArray(labels.ToArray(), n), ref _classes));
        var loss = tape.Add(tape.Add(boxLoss, objectLoss), classLoss);
        return (loss, CountHits(raw, n));
    }

    /// <summary>Images whose most confident cell, decoded as <see cref="GridDetector.Forward"/> does, has IoU ≥ 0.5 with the truth.</summary>
    private int CountHits(Tensor raw, int n)
    {
        int channels = raw.Shape[1], rows = raw.Shape[2], cols = raw.Shape[3], cells = rows * cols, per = channels * cells;
        if (_raw.Length != raw.Size) _raw = new float[raw.Size];
        raw.Buffer.CopyTo(_raw);
        int hits = 0;
        for (int b = 0; b < n; b++)
        {
            var image = _raw.AsSpan(b * per, per);
            int best = 0;
            for (int c = 1; c < cells; c++) if (image[4 * cells + c] > image[4 * cells + best]) best = c;
            var (x1, y1, x2, y2, _, _) = GridDetector.DecodeCell(image, channels, rows, cols, best, Height, Width);
            if (new PixelBox(x1, y1, x2, y2).IoU(_truth[b]) >= 0.5f) hits++;
        }
        return hits;
    }
}
