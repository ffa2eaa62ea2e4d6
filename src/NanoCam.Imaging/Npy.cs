using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace NanoCam.Imaging;

/// <summary>
/// Reads and writes NumPy .npy files of float32 arrays: magic "\x93NUMPY", version, little-endian header length,
/// a Python dict literal header padded with spaces to a 64-byte boundary and ended by '\n', then the C-order data.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes a version 1.0 '&lt;f4' C-order array atomically; the product of <paramref name="shape"/> must equal data.Length.</summary>
    public static void Write(string path, float[] data, int[] shape)
    {
        byte[] bytes = Encode(data, shape);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The bytes of a version 1.0 '&lt;f4' file.</summary>
    public static byte[] Encode(ReadOnlySpan<float> data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"shape has a negative dimension: ({string.Join(", ", shape)})", nameof(shape));
            count *= d;
        }
        if (count != data.Length) throw new ArgumentException($"shape ({string.Join(", ", shape)}) holds {count} values but data has {data.Length}");

        // Python tuple syntax: () for a scalar, (n,) for one dimension, (a, b) otherwise.
        string tuple = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}";
        // Preamble is 10 bytes (magic 6 + version 2 + length 2); pad so 10 + header is a multiple of 64, '\n' last.
        int headerLength = dict.Length + 1;
        headerLength += (64 - (10 + headerLength) % 64) % 64;
        if (headerLength > ushort.MaxValue) throw new ArgumentException("shape too long for a version 1.0 header", nameof(shape));
        string header = dict.PadRight(headerLength - 1) + "\n";

        var bytes = new byte[10 + headerLength + data.Length * 4L];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(10));
        Span<byte> body = bytes.AsSpan(10 + headerLength);
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(body.Slice(i * 4), data[i]);
        return bytes;
    }

    /// <summary>Reads a C-order '&lt;f4' array ('&lt;f8' is narrowed to float); bad files raise InvalidDataException naming the file.</summary>
    public static (float[] Data, int[] Shape) Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read {path}: {e.Message}", e);
        }
        return Decode(bytes, path);
    }

    /// <summary>Parses .npy bytes; <paramref name="name"/> is used in error messages.</summary>
    public static (float[] Data, int[] Shape) Decode(ReadOnlySpan<byte> bytes, string name = "(memory)")
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{name}: not a .npy file (missing \\x93NUMPY magic)");
        int major = bytes[6];
        int headerLength, preamble;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]); preamble = 10; }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new InvalidDataException($"{name}: truncated .npy header");
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..])); preamble = 12;
        }
        else throw new InvalidDataException($"{name}: unsupported .npy version {major}.{bytes[7]}");
        if (bytes.Length < preamble + headerLength)
            throw new InvalidDataException($"{name}: truncated .npy header (needs {preamble + headerLength} bytes, file has {bytes.Length})");

        string header = Encoding.Latin1.GetString(bytes.Slice(preamble, headerLength));
        Match descr = DescrPattern().Match(header), fortran = FortranPattern().Match(header), shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new InvalidDataException($"{name}: bad .npy header (expected 'descr', 'fortran_order' and 'shape'): {DisplayText.Quote(header.Trim(), 60)}");
        string dtype = descr.Groups[1].Value;
        int itemSize = dtype switch
        {
            "<f4" or "=f4" => 4,
            "<f8" or "=f8" => 8,
            _ => throw new InvalidDataException($"{name}: dtype '{DisplayText.Quote(dtype, 16)}' is not supported (only '<f4', or '<f8' narrowed to float)"),
        };
        if (fortran.Groups[1].Value == "True") throw new InvalidDataException($"{name}: Fortran-order arrays are not supported");

        int[] shape;
        long count = 1;
        try
        {
            shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => int.Parse(s.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
            foreach (int d in shape) count = checked(count * d);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InvalidDataException($"{name}: bad shape in .npy header: ({DisplayText.Quote(shapeMatch.Groups[1].Value, 40)})", e);
        }
        ReadOnlySpan<byte> body = bytes[(preamble + headerLength)..];
        if (body.Length < count * itemSize)
            throw new InvalidDataException($"{name}: truncated data: shape ({string.Join(", ", shape)}) needs {count * itemSize} bytes, file holds {body.Length}");

        var data = new float[count];
        for (int i = 0; i < data.Length; i++)
            data[i] = itemSize == 4 ? BinaryPrimitives.ReadSingleLittleEndian(body.Slice(i * 4)) : (float)BinaryPrimitives.ReadDoubleLittleEndian(body.Slice(i * 8));
        return (data, shape);
    }

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]*)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
