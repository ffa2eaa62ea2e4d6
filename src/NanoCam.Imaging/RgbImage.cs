namespace NanoCam.Imaging;

/// <summary>An RGB image: <see cref="Width"/> × <see cref="Height"/> pixels stored HWC (row-major, R G B interleaved), each value in [0, 1].</summary>
public sealed class RgbImage
{
    /// <summary>Number of interleaved values per pixel.</summary>
    public const int Channels = 3;

    public RgbImage(int width, int height, float[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size must be positive, got {width}×{height}");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != width * height * Channels)
            throw new ArgumentException($"a {width}×{height} RGB image needs {width * height * Channels} values, got {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>A black image.</summary>
    public RgbImage(int width, int height) : this(width, height, new float[width * height * Channels]) { }

    public int Width { get; }
    public int Height { get; }

    /// <summary>HWC values: the value of channel c at (x, y) is at (y·Width + x)·3 + c.</summary>
    public float[] Pixels { get; }

    public Rgb this[int x, int y]
    {
        get { int o = (y * Width + x) * Channels; return new Rgb(Pixels[o], Pixels[o + 1], Pixels[o + 2]); }
        set { int o = (y * Width + x) * Channels; Pixels[o] = value.R; Pixels[o + 1] = value.G; Pixels[o + 2] = value.B; }
    }

    /// <summary>Builds an image from planar CHW values (1 channel is repeated as gray, 3 are RGB), clamped to [0, 1].</summary>
    public static RgbImage FromPlanar(ReadOnlySpan<float> chw, int channels, int height, int width)
    {
        if (channels != 1 && channels != 3) throw new ArgumentException($"planar images need 1 or 3 channels, got {channels}", nameof(channels));
        if (chw.Length < channels * height * width) throw new ArgumentException($"need {channels * height * width} values, got {chw.Length}", nameof(chw));
        var image = new RgbImage(width, height);
        int plane = height * width;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < Channels; c++)
                image.Pixels[p * Channels + c] = Math.Clamp(chw[(channels == 1 ? 0 : c) * plane + p], 0f, 1f);
        return image;
    }

    /// <summary>Writes the pixels as planar CHW values into <paramref name="chw"/> (length 3·H·W).</summary>
    public void ToPlanar(Span<float> chw)
    {
        int plane = Height * Width;
        if (chw.Length < Channels * plane) throw new ArgumentException($"need {Channels * plane} values, got {chw.Length}", nameof(chw));
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < Channels; c++)
                chw[c * plane + p] = Pixels[p * Channels + c];
    }

    public RgbImage Clone() => new(Width, Height, (float[])Pixels.Clone());
}
