using System.Buffers.Binary;
using System.IO.Compression;

namespace NanoCam.Data;

/// <summary>
/// Reads IDX files (the MNIST format): a big-endian magic 0x0000TTNN (TT = element type, 0x08 for unsigned bytes;
/// NN = number of dimensions), NN big-endian int32 sizes, then the elements. Files may be gzipped (magic 1f 8b).
/// </summary>
public static class IdxFile
{
    /// <summary>Magic of an images file: unsigned bytes, 3 dimensions (count, rows, columns).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic of a labels file: unsigned bytes, 1 dimension (count).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Reads an images file: returns (count, rows, columns, pixel bytes).</summary>
    public static (int Count, int Rows, int Columns, byte[] Pixels) ReadImages(string path)
    {
        byte[] bytes = ReadMaybeGzipped(path);
        int[] dims = ReadHeader(bytes, path, ImagesMagic, "images");
        long needed = 16 + (long)dims[0] * dims[1] * dims[2];
        if (bytes.Length != needed)
            throw new InvalidDataException(
                $"{path}: header says {dims[0]} images of {dims[1]}×{dims[2]} but file holds {bytes.Length} bytes (expected {needed})");
        return (dims[0], dims[1], dims[2], bytes[16..]);
    }

    /// <summary>Reads a labels file: one byte per example.</summary>
    public static byte[] ReadLabels(string path)
    {
        byte[] bytes = ReadMaybeGzipped(path);
        int[] dims = ReadHeader(bytes, path, LabelsMagic, "labels");
        long needed = 8 + (long)dims[0];
        if (bytes.Length != needed)
            throw new InvalidDataException($"{path}: header says {dims[0]} labels but file holds {bytes.Length} bytes (expected {needed})");
        return bytes[8..];
    }

    /// <summary>The file's bytes, decompressed when it starts with the gzip magic 1f 8b.</summary>
    public static byte[] ReadMaybeGzipped(string path)
    {
        byte[] raw;
        try { raw = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read: {e.Message}", e);
        }
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream(raw.Length * 4);
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: corrupt gzip data: {e.Message}", e);
        }
    }

    private static int[] ReadHeader(byte[] bytes, string path, int expectedMagic, string kind)
    {
        int rank = expectedMagic & 0xff;
        if (bytes.Length < 4)
            throw new InvalidDataException($"{path}: file holds {bytes.Length} bytes, too short for an IDX {kind} header");
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (magic != expectedMagic)
            throw new InvalidDataException($"{path}: magic 0x{magic:x8} is not an IDX {kind} file (expected 0x{expectedMagic:x8})");
        if (bytes.Length < 4 + 4 * rank)
            throw new InvalidDataException($"{path}: file holds {bytes.Length} bytes, too short for an IDX {kind} header");
        var dims = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (dims[d] <= 0) throw new InvalidDataException($"{path}: dimension {d} of the IDX header is {dims[d]}");
        }
        return dims;
    }
}
