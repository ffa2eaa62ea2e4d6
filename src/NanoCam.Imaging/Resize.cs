namespace NanoCam.Imaging;

/// <summary>Bilinear resampling (half-pixel centres, align_corners = false) and the resize/crop steps of a classifier's preprocessing.</summary>
public static class Resize
{
    /// <summary>
    /// Resizes interleaved HWC values. Destination pixel x samples source coordinate
    /// u = (x + ½)·(srcW / dstW) − ½, clamped to [0, srcW − 1]; the value is
    /// (1 − f)·src[⌊u⌋] + f·src[⌊u⌋ + 1] with f = u − ⌊u⌋, and the same along y.
    /// </summary>
    public static void Bilinear(ReadOnlySpan<float> source, int sourceWidth, int sourceHeight, int channels,
                                Span<float> destination, int width, int height)
    {
        if (source.Length < sourceWidth * sourceHeight * channels) throw new ArgumentException("source is smaller than its stated size", nameof(source));
        if (destination.Length < width * height * channels) throw new ArgumentException("destination is smaller than its stated size", nameof(destination));
        float scaleX = (float)sourceWidth / width, scaleY = (float)sourceHeight / height;
        for (int y = 0; y < height; y++)
        {
            SourceTap(y, scaleY, sourceHeight, out int y0, out int y1, out float fy);
            for (int x = 0; x < width; x++)
            {
                SourceTap(x, scaleX, sourceWidth, out int x0, out int x1, out float fx);
                int o = (y * width + x) * channels;
                int a = (y0 * sourceWidth + x0) * channels, b = (y0 * sourceWidth + x1) * channels;
                int c = (y1 * sourceWidth + x0) * channels, d = (y1 * sourceWidth + x1) * channels;
                for (int k = 0; k < channels; k++)
                {
                    float top = source[a + k] + (source[b + k] - source[a + k]) * fx;
                    float bottom = source[c + k] + (source[d + k] - source[c + k]) * fx;
                    destination[o + k] = top + (bottom - top) * fy;
                }
            }
        }
    }

    /// <summary>Bilinear resize of a single-channel H×W map (e.g. a CAM) to a new size.</summary>
    public static float[] Map(ReadOnlySpan<float> map, int mapWidth, int mapHeight, int width, int height)
    {
        var result = new float[width * height];
        Bilinear(map, mapWidth, mapHeight, 1, result, width, height);
        return result;
    }

    public static RgbImage Bilinear(RgbImage image, int width, int height)
    {
        if (image.Width == width && image.Height == height) return image.Clone();
        var result = new RgbImage(width, height);
        Bilinear(image.Pixels, image.Width, image.Height, RgbImage.Channels, result.Pixels, width, height);
        return result;
    }

    /// <summary>Nearest-neighbour upscaling by an integer factor: each source pixel becomes a <paramref name="factor"/>×<paramref name="factor"/> block, so pixels stay crisp.</summary>
    public static RgbImage Nearest(RgbImage image, int factor)
    {
        if (factor < 1) throw new ArgumentOutOfRangeException(nameof(factor), "factor must be at least 1");
        if (factor == 1) return image.Clone();
        var result = new RgbImage(image.Width * factor, image.Height * factor);
        for (int y = 0; y < result.Height; y++)
            for (int x = 0; x < result.Width; x++)
                result[x, y] = image[x / factor, y / factor];
        return result;
    }

    /// <summary>Scales so the shorter side equals <paramref name="size"/>, keeping the aspect ratio (longer side rounded).</summary>
    public static RgbImage ShorterSide(RgbImage image, int size)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), "size must be positive");
        bool wide = image.Width >= image.Height;
        int shorter = wide ? image.Height : image.Width, longer = wide ? image.Width : image.Height;
        int newLonger = Math.Max(size, (int)Math.Round((double)longer * size / shorter));
        return wide ? Bilinear(image, newLonger, size) : Bilinear(image, size, newLonger);
    }

    /// <summary>Cuts the centred <paramref name="width"/>×<paramref name="height"/> window; offset ⌊(W − w)/2⌋.</summary>
    public static RgbImage CenterCrop(RgbImage image, int width, int height)
    {
        if (width > image.Width || height > image.Height)
            throw new ArgumentException($"cannot crop {width}×{height} from a {image.Width}×{image.Height} image");
        int left = (image.Width - width) / 2, top = (image.Height - height) / 2;
        var result = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
            image.Pixels.AsSpan(((top + y) * image.Width + left) * 3, width * 3).CopyTo(result.Pixels.AsSpan(y * width * 3));
        return result;
    }

    // u = (i + ½)·scale − ½ (half-pixel centres), clamped to the valid range.
    private static void SourceTap(int i, float scale, int sourceSize, out int i0, out int i1, out float fraction)
    {
        float u = Math.Clamp((i + 0.5f) * scale - 0.5f, 0f, sourceSize - 1);
        i0 = (int)u;
        i1 = Math.Min(i0 + 1, sourceSize - 1);
        fraction = u - i0;
    }
}
