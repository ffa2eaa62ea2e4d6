namespace NanoCam.Nn.Training;

/// <summary>An axis-aligned box in continuous input pixels: it covers [X1, X2) × [Y1, Y2).</summary>
public readonly record struct PixelBox(float X1, float Y1, float X2, float Y2)
{
    public float Area => MathF.Max(0f, X2 - X1) * MathF.Max(0f, Y2 - Y1);

    /// <summary>Intersection over union |A ∩ B| / |A ∪ B| of the two areas (0 when both are empty).</summary>
    public float IoU(PixelBox other)
    {
        float ix = MathF.Max(0f, MathF.Min(X2, other.X2) - MathF.Max(X1, other.X1));
        float iy = MathF.Max(0f, MathF.Min(Y2, other.Y2) - MathF.Max(Y1, other.Y1));
        float union = Area + other.Area - ix * iy;
        return union > 0f ? ix * iy / union : 0f;
    }
}

/// <summary>How well a dense prediction matches the truth: a predicted mask's IoU, a mask's box, the best box's IoU.</summary>
public static class DenseQuality
{
    /// <summary>A pixel belongs to the object when it is at least half covered (the dataset's own box rule).</summary>
    public const float Inside = 0.5f;

    /// <summary>
    /// IoU of the pixels whose argmax over <paramref name="maps"/> logit maps [maps, plane] is <paramref name="label"/>
    /// with the pixels covered ≥ ½ by the object (1 when both are empty).
    /// </summary>
    public static float MaskIoU(ReadOnlySpan<float> logits, int maps, int label, ReadOnlySpan<float> coverage)
    {
        int plane = coverage.Length, intersection = 0, union = 0;
        for (int p = 0; p < plane; p++)
        {
            int best = 0;
            for (int k = 1; k < maps; k++) if (logits[k * plane + p] > logits[best * plane + p]) best = k;
            bool predicted = best == label, truth = coverage[p] >= Inside;
            if (predicted && truth) intersection++;
            if (predicted || truth) union++;
        }
        return union == 0 ? 1f : (float)intersection / union;
    }

    /// <summary>
    /// Adds one image's pixel counts per map to <paramref name="intersection"/>[k] and <paramref name="union"/>[k]
    /// (k over the <paramref name="maps"/> logit maps [maps, plane]): a pixel's prediction is its argmax, its truth
    /// <paramref name="label"/> where the object covers ≥ ½ of it and <paramref name="background"/> elsewhere. Summed over a
    /// data set, IoU_k = intersection[k] / union[k] (the per-class IoU whose mean is the mIoU of FCN, Long et al. 2015, Sec. 5).
    /// </summary>
    public static void AddClassOverlaps(ReadOnlySpan<float> logits, int maps, int label, int background, ReadOnlySpan<float> coverage, Span<long> intersection, Span<long> union)
    {
        int plane = coverage.Length;
        for (int p = 0; p < plane; p++)
        {
            int best = 0;
            for (int k = 1; k < maps; k++) if (logits[k * plane + p] > logits[best * plane + p]) best = k;
            int truth = coverage[p] >= Inside ? label : background;
            union[best]++;
            if (best == truth) intersection[best]++;
            else union[truth]++;
        }
    }

    /// <summary>The tight box of the pixels covered ≥ ½ ([x0, x1 + 1) × [y0, y1 + 1)), or null when there are none.</summary>
    public static PixelBox? BoxOf(ReadOnlySpan<float> coverage, int height, int width)
    {
        int x0 = width, y0 = height, x1 = -1, y1 = -1;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                if (coverage[y * width + x] >= Inside)
                {
                    x0 = Math.Min(x0, x); x1 = Math.Max(x1, x);
                    y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
                }
        return x1 < 0 ? null : new PixelBox(x0, y0, x1 + 1, y1 + 1);
    }

    /// <summary>
    /// The most confident box of one image's decoded detector rows [boxes, 4 + 1 + K] ([cx, cy, w, h, objectness,
    /// class scores…]): its row, box and best class.
    /// </summary>
    public static (int Row, PixelBox Box, int Class) BestBox(ReadOnlySpan<float> rows, int boxes, int width)
    {
        int best = 0;
        for (int i = 1; i < boxes; i++) if (rows[i * width + 4] > rows[best * width + 4]) best = i;
        var row = rows.Slice(best * width, width);
        return (best, new PixelBox(row[0] - row[2] / 2, row[1] - row[3] / 2, row[0] + row[2] / 2, row[1] + row[3] / 2), Metrics.ArgMax(row[5..]));
    }
}
