using NanoCam.Imaging;

namespace NanoCam.Data;

/// <summary>Another dataset with every image resized bilinearly to Height × Width (each channel alike) and its boxes scaled with it.</summary>
public sealed class ResizedDataset : Dataset
{
    private readonly Dataset _inner;

    public ResizedDataset(Dataset inner, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        _inner = inner;
        Height = height;
        Width = width;
    }

    public Dataset Inner => _inner;
    public override int Count => _inner.Count;
    public override IReadOnlyList<string> ClassNames => _inner.ClassNames;
    public override int Channels => _inner.Channels;
    public override int Height { get; }
    public override int Width { get; }
    public override string Description => $"{_inner.Description} resized to {Height}×{Width}";

    /// <summary>The inner image, each channel plane resized by <see cref="Resize.Bilinear(ReadOnlySpan{float}, int, int, int, Span{float}, int, int)"/> (half-pixel centres).</summary>
    public override void GetImage(int index, Span<float> chw)
    {
        CheckIndex(index);
        CheckDestination(chw);
        float[] source = _inner.GetImage(index);
        int sourcePlane = _inner.Height * _inner.Width, plane = Height * Width;
        for (int c = 0; c < Channels; c++)
            Resize.Bilinear(source.AsSpan(c * sourcePlane, sourcePlane), _inner.Width, _inner.Height, 1, chw.Slice(c * plane, plane), Width, Height);
    }

    public override int GetLabel(int index) { CheckIndex(index); return _inner.GetLabel(index); }

    /// <summary>
    /// The inner box scaled: it covers the continuous extent [X0, X1 + 1) × [Y0, Y1 + 1), which becomes
    /// [X0·s, (X1 + 1)·s) with s = Width / inner width; the new box holds every pixel that extent touches.
    /// </summary>
    public override Box? GetBox(int index)
    {
        CheckIndex(index);
        if (_inner.GetBox(index) is not { } box) return null;
        // Integer arithmetic: floor(a·W / w) and ceil(b·W / w) exactly, without rounding error in W / w.
        int w = _inner.Width, h = _inner.Height;
        return new Box(
            box.X0 * Width / w, box.Y0 * Height / h,
            Math.Min(Width - 1, ((box.X1 + 1) * Width + w - 1) / w - 1), Math.Min(Height - 1, ((box.Y1 + 1) * Height + h - 1) / h - 1));
    }
}
