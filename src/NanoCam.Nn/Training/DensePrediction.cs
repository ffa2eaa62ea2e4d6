namespace NanoCam.Nn.Training;

/// <summary>One decoded box of a detector's output row: its row, corners in input pixels, objectness, best class and that class's score.</summary>
public readonly record struct Detection(int Row, PixelBox Box, float Objectness, int Class, float ClassScore)
{
    /// <summary>objectness × class score: YOLO v1's class-specific confidence, Pr(object)·Pr(class | object) (Redmon et al. 2016, Sec. 2).</summary>
    public float Score => Objectness * ClassScore;
}

/// <summary>What a dense network predicts for one image, read from its output: a segmentation's pixels per class, a detector's boxes.</summary>
public static class DensePrediction
{
    /// <summary>
    /// How many of the <paramref name="plane"/> pixels of logit maps [maps, plane] take each map as their argmax (the
    /// first map on ties, as <see cref="DenseQuality.MaskIoU"/> counts them).
    /// </summary>
    public static int[] PixelCounts(ReadOnlySpan<float> logits, int maps, int plane)
    {
        var counts = new int[maps];
        for (int p = 0; p < plane; p++)
        {
            int best = 0;
            for (int k = 1; k < maps; k++) if (logits[k * plane + p] > logits[best * plane + p]) best = k;
            counts[best]++;
        }
        return counts;
    }

    /// <summary>
    /// The class of a predicted mask: of <paramref name="counts"/> (<see cref="PixelCounts"/>), the object class with
    /// the most pixels (the lower index on ties); <paramref name="background"/> when no pixel is an object's.
    /// </summary>
    public static int MaskClass(ReadOnlySpan<int> counts, int background)
    {
        int best = background;
        for (int k = 0; k < counts.Length; k++)
            if (k != background && counts[k] > 0 && (best == background || counts[k] > counts[best])) best = k;
        return best;
    }

    /// <summary>
    /// The rows of a detector's decoded output [boxes, 4 + 1 + K] ([cx, cy, w, h, objectness, class scores…] in input
    /// pixels) whose objectness is at least <paramref name="minObjectness"/>, each with its best class, highest
    /// <see cref="Detection.Score"/> first (lower row on ties). No suppression of overlapping boxes.
    /// </summary>
    public static List<Detection> Boxes(ReadOnlySpan<float> rows, int boxes, int width, float minObjectness)
    {
        var found = new List<Detection>();
        for (int i = 0; i < boxes; i++)
        {
            var row = rows.Slice(i * width, width);
            if (!(row[4] >= minObjectness)) continue;
            int cls = Metrics.ArgMax(row[5..]);
            found.Add(new Detection(i, new PixelBox(row[0] - row[2] / 2, row[1] - row[3] / 2, row[0] + row[2] / 2, row[1] + row[3] / 2), row[4], cls, row[5 + cls]));
        }
        found.Sort((a, b) => b.Score.CompareTo(a.Score) is var order and not 0 ? order : a.Row.CompareTo(b.Row));
        return found;
    }
}
