namespace NanoCam.Explain.Metrics;

/// <summary>A pixel box [X0, X1) × [Y0, Y1).</summary>
public readonly record struct Box(int X0, int Y0, int X1, int Y1)
{
    public int Area => Math.Max(0, X1 - X0) * Math.Max(0, Y1 - Y0);

    /// <summary>Intersection over union |A ∩ B| / |A ∪ B|.</summary>
    public double IoU(Box other)
    {
        int ix = Math.Max(0, Math.Min(X1, other.X1) - Math.Max(X0, other.X0));
        int iy = Math.Max(0, Math.Min(Y1, other.Y1) - Math.Max(Y0, other.Y0));
        double intersection = (double)ix * iy;
        double union = Area + other.Area - intersection;
        return union <= 0 ? 0 : intersection / union;
    }
}
