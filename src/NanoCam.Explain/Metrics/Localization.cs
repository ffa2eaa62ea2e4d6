namespace NanoCam.Explain.Metrics;

/// <summary>
/// Weakly-supervised localization as in the CAM paper (Sec. 3.1): keep the map's pixels above a fraction (20%) of its
/// maximum, take the largest connected component (4-connected), and return its bounding box.
/// A prediction is a hit when the class is right and IoU(box, ground truth) ≥ 0.5.
/// </summary>
public static class Localization
{
    public const float DefaultThreshold = 0.2f;

    /// <summary>The least IoU with the true box that counts as a hit (CAM paper, Sec. 3.1).</summary>
    public const double MinIoU = 0.5;

    public static Box BoxFromMap(ReadOnlySpan<float> map, int height, int width, float threshold = DefaultThreshold)
    {
        float max = float.NegativeInfinity;
        foreach (var v in map) max = MathF.Max(max, v);
        if (!(max > 0)) return new Box(0, 0, width, height); // nothing stands out: the whole image
        float cut = threshold * max;

        var above = new bool[map.Length];
        for (int i = 0; i < map.Length; i++) above[i] = map[i] >= cut;
        var label = new int[height * width];
        var stack = new Stack<int>();
        int bestSize = 0;
        Box best = new(0, 0, width, height);
        int next = 0;
        for (int start = 0; start < map.Length; start++)
        {
            if (!above[start] || label[start] != 0) continue;
            next++;
            int size = 0, x0 = width, y0 = height, x1 = 0, y1 = 0;
            label[start] = next;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                int y = p / width, x = p % width;
                size++;
                x0 = Math.Min(x0, x); x1 = Math.Max(x1, x + 1);
                y0 = Math.Min(y0, y); y1 = Math.Max(y1, y + 1);
                Visit(x - 1, y); Visit(x + 1, y); Visit(x, y - 1); Visit(x, y + 1);
            }
            if (size > bestSize) { bestSize = size; best = new Box(x0, y0, x1, y1); }
        }
        return best;

        void Visit(int x, int y)
        {
            if ((uint)x >= (uint)width || (uint)y >= (uint)height) return;
            int q = y * width + x;
            if (label[q] != 0 || !above[q]) return;
            label[q] = next;
            stack.Push(q);
        }
    }

    public static bool IsHit(int predictedClass, int trueClass, Box predicted, Box truth, double minIoU = MinIoU) =>
        predictedClass == trueClass && predicted.IoU(truth) >= minIoU;
}
