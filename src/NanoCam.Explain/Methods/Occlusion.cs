namespace NanoCam.Explain.Methods;

/// <summary>
/// Occlusion (Zeiler &amp; Fergus 2014, Sec. 4.2): a window of <c>window</c>×<c>window</c> pixels, in every channel, set to
/// the baseline value 0 of the model's input space, slid with <c>stride</c>; each pixel's attribution is the mean, over
/// the windows that cover it, of the drop y^c(x) − y^c(x with the window occluded). The occluded copies run
/// <paramref name="batchSize"/> per no-grad pass. Window 0 means ⌈max(H, W) / 8⌉, stride 0 half the window.
/// Attributions are [N, 1, H, W] (one per pixel); the map is their positive part (evidence for the class).
/// </summary>
public sealed class Occlusion(int window = 0, int stride = 0, int batchSize = 32) : InputAttribution
{
    public override string Name => "occlusion";

    /// <summary>The window and stride used on an H×W input.</summary>
    public (int Window, int Stride) SizesFor(int height, int width)
    {
        int size = window > 0 ? window : Math.Max(1, (Math.Max(height, width) + 7) / 8);
        return (Math.Min(size, Math.Min(height, width)), stride > 0 ? stride : Math.Max(1, size / 2));
    }

    /// <summary>The top-left corners along one axis of length <paramref name="length"/>: 0, s, 2s, … and the last that fits.</summary>
    public static int[] Starts(int length, int size, int step)
    {
        var starts = new List<int>();
        for (int s = 0; s + size <= length; s += step) starts.Add(s);
        if (starts[^1] + size < length) starts.Add(length - size);
        return [.. starts];
    }

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var (n, c, h, w) = (input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3]);
        int size = c * h * w, plane = h * w, classes = explainer.Model.Classes;
        var x = input.ToArray();
        target.RequireClassScore(Name);
        var full = explainer.ScoresOf(input);
        var targetClasses = new int[n];
        for (int i = 0; i < n; i++) targetClasses[i] = target.ClassFor(i, full.AsSpan(i * classes, classes));
        var (win, step) = SizesFor(h, w);
        int[] rows = Starts(h, win, step), cols = Starts(w, win, step);
        int windows = rows.Length * cols.Length;

        var scores = explainer.ScoresOf(n * windows, batchSize, c, h, w, (j, image) =>
        {
            int i = j / windows, r = rows[j % windows / cols.Length], q = cols[j % windows % cols.Length];
            x.AsSpan(i * size, size).CopyTo(image);
            for (int ch = 0; ch < c; ch++)
                for (int y = r; y < r + win; y++)
                    image.Slice(ch * plane + y * w + q, win).Clear();
        });

        var values = new float[n * plane];
        var covered = new int[plane];
        for (int i = 0; i < n; i++)
        {
            Array.Clear(covered);
            var into = values.AsSpan(i * plane, plane);
            float original = full[i * classes + targetClasses[i]];
            for (int k = 0; k < windows; k++)
            {
                int r = rows[k / cols.Length], q = cols[k % cols.Length];
                float drop = original - scores[(i * windows + k) * classes + targetClasses[i]];
                for (int y = r; y < r + win; y++)
                    for (int u = q; u < q + win; u++)
                    {
                        into[y * w + u] += drop;
                        covered[y * w + u]++;
                    }
            }
            for (int p = 0; p < plane; p++) into[p] /= covered[p];
        }
        return new AttributionResult(values, n, 1, h, w, targetClasses);
    }

    /// <summary>max(0, a): the pixels whose occlusion lowers the score.</summary>
    public override float[] MapOf(AttributionResult result, int n)
    {
        var map = result.Of(n).ToArray();
        for (int p = 0; p < map.Length; p++) map[p] = MathF.Max(0f, map[p]);
        return map;
    }
}
