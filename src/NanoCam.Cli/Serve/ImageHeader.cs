using System.Buffers.Binary;

namespace NanoCam.Cli.Serve;

/// <summary>
/// An image's format and pixel size read from its first bytes (PNG IHDR, JPEG SOFn, BMP info header), so that an
/// image too large to decode is refused before a single pixel is allocated.
/// </summary>
public readonly record struct ImageHeader(string Format, int Width, int Height)
{
    public long Pixels => (long)Width * Height;

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// The header of a PNG, JPEG or BMP file; null when the bytes start like none of them (not an image we decode).
    /// A header that starts right but ends too soon, or gives a zero size, is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static ImageHeader? Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith(PngSignature)) return Png(bytes);
        if (bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return Jpeg(bytes);
        if (bytes.Length >= 2 && bytes[0] == (byte)'B' && bytes[1] == (byte)'M') return Bmp(bytes);
        return null;
    }

    // PNG: the signature, then the IHDR chunk (length, "IHDR", width and height as big-endian uint32).
    private static ImageHeader Png(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 24 || !bytes.Slice(12, 4).SequenceEqual("IHDR"u8)) throw Truncated("PNG", "no IHDR chunk");
        return Checked("PNG", BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]), BinaryPrimitives.ReadUInt32BigEndian(bytes[20..]));
    }

    // JPEG: markers FF xx, each but SOI/EOI/RSTn/TEM followed by a big-endian length; a start-of-frame marker
    // (C0–CF except C4 DHT, C8 JPG, CC DAC) holds precision, then height and width.
    private static ImageHeader Jpeg(ReadOnlySpan<byte> bytes)
    {
        int at = 2;
        while (at + 4 <= bytes.Length)
        {
            if (bytes[at] != 0xFF) throw Truncated("JPEG", $"no marker at byte {at}");
            byte marker = bytes[at + 1];
            if (marker == 0xFF) { at++; continue; } // fill byte
            if (marker is 0x01 or (>= 0xD0 and <= 0xD8)) { at += 2; continue; }
            if (marker == 0xD9) break;
            int length = BinaryPrimitives.ReadUInt16BigEndian(bytes[(at + 2)..]);
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                if (at + 9 > bytes.Length) break;
                return Checked("JPEG", BinaryPrimitives.ReadUInt16BigEndian(bytes[(at + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(bytes[(at + 5)..]));
            }
            if (length < 2) throw Truncated("JPEG", $"a segment of length {length}");
            at += 2 + length;
        }
        throw Truncated("JPEG", "no start-of-frame segment");
    }

    // BMP: BITMAPINFOHEADER width and height as little-endian int32 at 18 and 22 (a negative height is top-down).
    private static ImageHeader Bmp(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 26) throw Truncated("BMP", "no info header");
        int width = BinaryPrimitives.ReadInt32LittleEndian(bytes[18..]), height = BinaryPrimitives.ReadInt32LittleEndian(bytes[22..]);
        if (width < 0 || height == int.MinValue) throw Truncated("BMP", $"a width of {width}");
        return Checked("BMP", (uint)width, (uint)Math.Abs(height));
    }

    private static ImageHeader Checked(string format, uint width, uint height)
    {
        if (width == 0 || height == 0) throw new InvalidDataException($"the {format} header gives a size of {width}×{height} pixels");
        if (width > int.MaxValue || height > int.MaxValue) throw new InvalidDataException($"the {format} header gives a size of {width}×{height} pixels, more than any image can have");
        return new ImageHeader(format, (int)width, (int)height);
    }

    private static InvalidDataException Truncated(string format, string what) => new($"a {format} file that ends or breaks too early ({what})");
}
