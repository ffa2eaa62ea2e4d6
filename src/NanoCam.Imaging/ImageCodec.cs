using StbImageSharp;
using StbImageWriteSharp;

namespace NanoCam.Imaging;

/// <summary>Decodes PNG/JPEG/BMP/TGA files into <see cref="RgbImage"/> and encodes PNG (stb_image ports).</summary>
public static class ImageCodec
{
    /// <summary>
    /// Decodes an image file to RGB (gray is expanded, alpha dropped); a missing file is a FileNotFoundException, any other
    /// failure an InvalidDataException, both naming the file in one line.
    /// </summary>
    public static RgbImage Load(string path)
    {
        if (Directory.Exists(path)) throw new InvalidDataException($"cannot read image {path}: it is a folder, not an image file");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw new FileNotFoundException($"cannot read image {path}: no such file", path, e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read image {path}: {e.Message}", e);
        }
        return Decode(bytes, path);
    }

    /// <summary>Decodes encoded image bytes; <paramref name="name"/> is used in error messages.</summary>
    public static RgbImage Decode(byte[] encoded, string name = "(memory)")
    {
        ImageResult result;
        try { result = ImageResult.FromMemory(encoded, StbImageSharp.ColorComponents.RedGreenBlue); }
        catch (Exception e)
        {
            // The decoder's complaint, when it is words; a message made of the file's own bytes is not repeated.
            var why = e.Message.Length > 0 && DisplayText.IsPrintable(e.Message) ? DisplayText.Quote(e.Message, 60) : "the data is truncated or corrupted";
            throw new InvalidDataException($"cannot read image {name}: {why}", e);
        }
        if (result is null || result.Data is null || result.Width <= 0 || result.Height <= 0)
            throw new InvalidDataException($"cannot read image {name}: decoder returned no pixels");
        var pixels = new float[result.Width * result.Height * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = result.Data[i] / 255f;
        return new RgbImage(result.Width, result.Height, pixels);
    }

    /// <summary>Encodes an image as PNG bytes (values clamped to [0, 1] and rounded to 8 bits).</summary>
    public static byte[] EncodePng(RgbImage image)
    {
        using var memory = new MemoryStream();
        WritePng(image, memory);
        return memory.ToArray();
    }

    /// <summary>Writes a PNG atomically (PATH.tmp then rename).</summary>
    public static void SavePng(RgbImage image, string path) => AtomicFile.Write(path, s => WritePng(image, s));

    /// <summary>Quantizes [0, 1] floats to bytes: round(255·clamp(v, 0, 1)).</summary>
    public static byte[] ToBytes(RgbImage image)
    {
        var bytes = new byte[image.Pixels.Length];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)MathF.Round(Math.Clamp(image.Pixels[i], 0f, 1f) * 255f);
        return bytes;
    }

    private static void WritePng(RgbImage image, Stream destination) =>
        new ImageWriter().WritePng(ToBytes(image), image.Width, image.Height, StbImageWriteSharp.ColorComponents.RedGreenBlue, destination);
}
