namespace NanoCam.Explain.Targets;

/// <summary>How a single-shot detector lays out each of its boxes: 4 coordinates, objectness, then class scores.</summary>
public enum DetectorLayout
{
    /// <summary>[cx, cy, w, h, objectness, class scores…] in input pixels (YOLO's raw head, exported without NMS).</summary>
    Yolo,

    /// <summary>[x1, y1, x2, y2, objectness, class scores…] in input pixels.</summary>
    YoloCorners,
}

/// <summary>
/// A single-shot detector's evidence for a box the user names: L = Σ_i obj_i · s_{i,K} over the predicted boxes i whose
/// IoU with (<see cref="X1"/>, <see cref="Y1"/>, <see cref="X2"/>, <see cref="Y2"/>) is at least 0.5, K the given
/// <see cref="Index"/> or each box's best class. Objectness and class scores are read as the model outputs them (a
/// head without sigmoid: apply it in the model); the matching is found on the pass's outputs and held fixed, so the
/// gradient flows through obj and s only: ∂L/∂obj_i = s_{i,K}, ∂L/∂s_{i,K} = obj_i. <see cref="OutputDims"/> is one
/// image's output [boxes, 5 + classes].
/// </summary>
public sealed record BoxTarget(float X1, float Y1, float X2, float Y2, int? Index, IReadOnlyList<int> OutputDims, DetectorLayout Layout = DetectorLayout.Yolo) : CamTarget
{
    public override bool IsClassScore => false;

    /// <summary>The target as <c>--target</c> takes it.</summary>
    public override string ToString() => $"box:{X1},{Y1},{X2},{Y2}{(Index is { } k ? $",{k}" : "")}";

    /// <summary>The IoU a predicted box needs with the named box to count.</summary>
    public const float MinimumIoU = 0.5f;

    public override int ClassFor(int image, ReadOnlySpan<float> scores)
    {
        var matches = Matches(scores);
        return Index ?? matches[0].Class;
    }

    public override void Seed(int image, ReadOnlySpan<float> scores, Span<float> seed)
    {
        int width = OutputDims[1];
        seed.Clear();
        foreach (var (box, cls) in Matches(scores))
        {
            int row = box * width;
            seed[row + 4] = scores[row + 5 + cls];
            seed[row + 5 + cls] = scores[row + 4];
        }
    }

    /// <summary>The predicted boxes that overlap the named one, best IoU first, with the class each is explained for.</summary>
    private List<(int Box, int Class)> Matches(ReadOnlySpan<float> scores)
    {
        if (OutputDims.Count != 2 || OutputDims[1] < 6)
            throw new ArgumentException($"box needs a detector's output [N, boxes, 4 + 1 + classes]; this model's output is [N, {string.Join(", ", OutputDims)}]");
        int boxes = OutputDims[0], width = OutputDims[1], classes = width - 5;
        if (boxes * width != scores.Length)
            throw new ArgumentException($"box: the model's output has {scores.Length} values per image, not {TargetChecks.Shape(OutputDims)}");
        if (Index is { } k) TargetChecks.Index(k, classes, "box: class");
        var found = new List<(int Box, int Class, float IoU)>();
        float bestIoU = 0f;
        for (int i = 0; i < boxes; i++)
        {
            var row = scores.Slice(i * width, width);
            var (x1, y1, x2, y2) = Layout == DetectorLayout.Yolo
                ? (row[0] - row[2] / 2, row[1] - row[3] / 2, row[0] + row[2] / 2, row[1] + row[3] / 2)
                : (row[0], row[1], row[2], row[3]);
            float iou = IoU(x1, y1, x2, y2);
            bestIoU = MathF.Max(bestIoU, iou);
            if (iou < MinimumIoU) continue;
            int cls = Index ?? ArgMax(row[5..]);
            found.Add((i, cls, iou));
        }
        if (found.Count == 0)
            throw new ArgumentException($"box {X1},{Y1},{X2},{Y2}: no predicted box overlaps it with IoU ≥ {MinimumIoU} (the best overlaps {bestIoU:0.00})");
        return [.. found.OrderByDescending(f => f.IoU).Select(f => (f.Box, f.Class))];
    }

    private float IoU(float x1, float y1, float x2, float y2)
    {
        float ix = MathF.Max(0f, MathF.Min(x2, X2) - MathF.Max(x1, X1));
        float iy = MathF.Max(0f, MathF.Min(y2, Y2) - MathF.Max(y1, Y1));
        float intersection = ix * iy;
        float union = (x2 - x1) * (y2 - y1) + (X2 - X1) * (Y2 - Y1) - intersection;
        return union > 0f ? intersection / union : 0f;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
