namespace NanoCam.Data;

/// <summary>An axis-aligned box in pixels with inclusive corners: it covers columns X0..X1 and rows Y0..Y1.</summary>
public readonly record struct Box(int X0, int Y0, int X1, int Y1)
{
    public int Width => X1 - X0 + 1;
    public int Height => Y1 - Y0 + 1;
    public int Area => Width * Height;

    public bool Contains(int x, int y) => x >= X0 && x <= X1 && y >= Y0 && y <= Y1;

    /// <summary>Intersection over union |A ∩ B| / |A ∪ B| in pixel counts.</summary>
    public float IoU(Box other)
    {
        int w = Math.Min(X1, other.X1) - Math.Max(X0, other.X0) + 1, h = Math.Min(Y1, other.Y1) - Math.Max(Y0, other.Y0) + 1;
        int intersection = Math.Max(0, w) * Math.Max(0, h);
        return (float)intersection / (Area + other.Area - intersection);
    }
}
