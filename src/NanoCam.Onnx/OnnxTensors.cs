using System.Buffers.Binary;
using Google.Protobuf;
using NanoCam.Onnx.Protos;

namespace NanoCam.Onnx;

/// <summary>Decodes ONNX TensorProto messages (typed fields, raw_data, external data) into <see cref="OnnxValue"/>s.</summary>
public static class OnnxTensors
{
    /// <summary>Reads a serialized TensorProto file (the input_*.pb / output_*.pb of the ONNX node tests).</summary>
    public static OnnxValue ReadTensorFile(string path) => ReadValueFile(path, OnnxValueKind.Tensor);

    /// <summary>
    /// Reads a serialized value of the given container kind: a TensorProto (<see cref="OnnxValueKind.Tensor"/>), a
    /// SequenceProto (<see cref="OnnxValueKind.Sequence"/>) or an OptionalProto (<see cref="OnnxValueKind.None"/>).
    /// </summary>
    public static OnnxValue ReadValueFile(string path, OnnxValueKind container)
    {
        var bytes = File.ReadAllBytes(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        try
        {
            return container switch
            {
                OnnxValueKind.Sequence => DecodeSequence(SequenceProto.Parser.ParseFrom(bytes), directory, path),
                OnnxValueKind.None => DecodeOptional(OptionalProto.Parser.ParseFrom(bytes), directory, path),
                _ => Decode(TensorProto.Parser.ParseFrom(bytes), directory, path),
            };
        }
        catch (InvalidProtocolBufferException ex) { throw new InvalidDataException($"{path}: not a valid ONNX {container} value (truncated or corrupted file)", ex); }
    }

    private static OnnxValue DecodeSequence(SequenceProto proto, string? directory, string source)
    {
        // elem_type: 1 tensor, 3 sequence, 5 optional.
        var items = proto.ElemType switch
        {
            3 => proto.SequenceValues.Select(s => DecodeSequence(s, directory, source)).ToList(),
            5 => proto.OptionalValues.Select(o => DecodeOptional(o, directory, source)).ToList(),
            _ => proto.TensorValues.Select(t => Decode(t, directory, source)).ToList(),
        };
        return OnnxValue.FromSequence(items, items.FirstOrDefault()?.ElementType ?? OnnxDataType.Undefined);
    }

    private static OnnxValue DecodeOptional(OptionalProto proto, string? directory, string source) => proto.ElemType switch
    {
        1 when proto.TensorValue is { } t => Decode(t, directory, source),
        3 when proto.SequenceValue is { } s => DecodeSequence(s, directory, source),
        5 when proto.OptionalValue is { } o => DecodeOptional(o, directory, source),
        _ => OnnxValue.None(),
    };

    /// <summary>
    /// Decodes one tensor. FLOAT16 / BFLOAT16 / DOUBLE become float32 tensors; integer and BOOL types become host integers.
    /// <paramref name="baseDirectory"/> resolves external-data locations; <paramref name="source"/> names the file in errors.
    /// </summary>
    public static OnnxValue Decode(TensorProto proto, string? baseDirectory, string source)
    {
        var what = $"{source}: tensor '{DisplayText.Quote(proto.Name)}'";
        var dims = new int[proto.Dims.Count];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = proto.Dims[i];
            if (d < 0 || d > int.MaxValue) throw new InvalidDataException($"{what} has an invalid dimension {d}");
            dims[i] = (int)d;
            count *= d;
            if (count > int.MaxValue) throw new InvalidDataException($"{what} is too large ({string.Join("×", proto.Dims)})");
        }
        int n = (int)count;
        var type = (OnnxDataType)proto.DataType;
        var raw = proto.DataLocation == TensorProto.Types.DataLocation.External
            ? ReadExternal(proto, baseDirectory, what)
            : proto.HasRawData ? proto.RawData.Span : ReadOnlySpan<byte>.Empty;
        bool hasRaw = proto.DataLocation == TensorProto.Types.DataLocation.External || proto.HasRawData;

        switch (type)
        {
            case OnnxDataType.Float:
            case OnnxDataType.Float16:
            case OnnxDataType.BFloat16:
            case OnnxDataType.Double:
                return OnnxValue.FromTensor(Own(DecodeFloats(proto, type, raw, hasRaw, n, what), dims), type);
            case OnnxDataType.Float8E4M3FN or OnnxDataType.Float8E4M3FNUZ or OnnxDataType.Float8E5M2 or OnnxDataType.Float8E5M2FNUZ or OnnxDataType.Float4E2M1:
                return OnnxValue.FromTensor(Own(DecodeMinifloats(proto, type, raw, hasRaw, n, what), dims), type);
            case OnnxDataType.Int64 or OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8
                or OnnxDataType.UInt8 or OnnxDataType.UInt16 or OnnxDataType.UInt32 or OnnxDataType.UInt64 or OnnxDataType.Bool:
                return OnnxValue.FromIntegers(DecodeIntegers(proto, type, raw, hasRaw, n, what), dims, type);
            case OnnxDataType.Int4 or OnnxDataType.UInt4:
                return OnnxValue.FromIntegers(DecodeNibbles(proto, type, raw, hasRaw, n, what), dims, type);
            case OnnxDataType.String:
                if (proto.StringData.Count != n) throw new InvalidDataException($"{what} holds {proto.StringData.Count} strings but its shape needs {n} (truncated or corrupted file?)");
                return OnnxValue.FromStrings(proto.StringData.Select(b => b.ToStringUtf8()).ToArray(), dims);
            default:
                throw new NotSupportedException($"{what} has element type {type.Spelling()}, which NanoCam does not import");
        }
    }

    /// <summary>A tensor over a freshly decoded array, without the copy <see cref="Tensor.FromArray"/> makes.</summary>
    private static Tensor Own(float[] values, int[] dims) => new(new Shape(dims), new CpuBuffer(values));

    private static float[] DecodeFloats(TensorProto proto, OnnxDataType type, ReadOnlySpan<byte> raw, bool hasRaw, int n, string what)
    {
        var values = new float[n];
        if (hasRaw)
        {
            int width = type switch { OnnxDataType.Float => 4, OnnxDataType.Double => 8, _ => 2 };
            CheckLength(raw.Length, (long)n * width, what);
            if (type == OnnxDataType.Float && BitConverter.IsLittleEndian)
            {
                // FLOAT raw data is little-endian IEEE: one block copy.
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
                return values;
            }
            for (int i = 0; i < n; i++)
            {
                var bytes = raw.Slice(i * width, width);
                values[i] = type switch
                {
                    OnnxDataType.Float => BinaryPrimitives.ReadSingleLittleEndian(bytes),
                    OnnxDataType.Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes),
                    OnnxDataType.Float16 => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes)),
                    _ => BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes)),
                };
            }
            return values;
        }
        switch (type)
        {
            case OnnxDataType.Float:
                CheckLength(proto.FloatData.Count, n, what);
                proto.FloatData.CopyTo(values, 0);
                break;
            case OnnxDataType.Double:
                CheckLength(proto.DoubleData.Count, n, what);
                for (int i = 0; i < n; i++) values[i] = (float)proto.DoubleData[i];
                break;
            default:
                // FLOAT16 / BFLOAT16 in int32_data: the low 16 bits of each entry are the value's bits.
                CheckLength(proto.Int32Data.Count, n, what);
                for (int i = 0; i < n; i++)
                {
                    var bits = (ushort)proto.Int32Data[i];
                    values[i] = type == OnnxDataType.Float16 ? (float)BitConverter.UInt16BitsToHalf(bits) : BFloat16ToSingle(bits);
                }
                break;
        }
        return values;
    }

    /// <summary>FLOAT8 (one byte each) and FLOAT4E2M1 (two per byte, the first in the low nibble) as float32.</summary>
    private static float[] DecodeMinifloats(TensorProto proto, OnnxDataType type, ReadOnlySpan<byte> raw, bool hasRaw, int n, string what)
    {
        var format = MinifloatFormat.Of(type);
        var codes = hasRaw ? raw.ToArray() : proto.Int32Data.Select(v => (byte)v).ToArray();
        bool packed = type == OnnxDataType.Float4E2M1;
        CheckLength(codes.Length, packed ? (n + 1) / 2 : n, what);
        var values = new float[n];
        for (int i = 0; i < n; i++)
            values[i] = format.Decode(packed ? (codes[i / 2] >> (4 * (i % 2))) & 0xF : codes[i]);
        return values;
    }

    /// <summary>INT4 / UINT4: two per byte, the first in the low nibble; INT4 is two's complement.</summary>
    private static long[] DecodeNibbles(TensorProto proto, OnnxDataType type, ReadOnlySpan<byte> raw, bool hasRaw, int n, string what)
    {
        var codes = hasRaw ? raw.ToArray() : proto.Int32Data.Select(v => (byte)v).ToArray();
        CheckLength(codes.Length, (n + 1) / 2, what);
        var values = new long[n];
        for (int i = 0; i < n; i++)
        {
            int nibble = (codes[i / 2] >> (4 * (i % 2))) & 0xF;
            values[i] = type == OnnxDataType.Int4 && nibble >= 8 ? nibble - 16 : nibble;
        }
        return values;
    }

    private static long[] DecodeIntegers(TensorProto proto, OnnxDataType type, ReadOnlySpan<byte> raw, bool hasRaw, int n, string what)
    {
        var values = new long[n];
        if (hasRaw)
        {
            int width = type switch
            {
                OnnxDataType.Int64 or OnnxDataType.UInt64 => 8,
                OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
                OnnxDataType.Int16 or OnnxDataType.UInt16 => 2,
                _ => 1,
            };
            CheckLength(raw.Length, (long)n * width, what);
            for (int i = 0; i < n; i++)
            {
                var b = raw.Slice(i * width, width);
                values[i] = type switch
                {
                    OnnxDataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
                    OnnxDataType.UInt64 => (long)BinaryPrimitives.ReadUInt64LittleEndian(b),
                    OnnxDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b),
                    OnnxDataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
                    OnnxDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b),
                    OnnxDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
                    OnnxDataType.Int8 => (sbyte)b[0],
                    _ => b[0],
                };
            }
            return values;
        }
        if (type == OnnxDataType.Int64)
        {
            CheckLength(proto.Int64Data.Count, n, what);
            proto.Int64Data.CopyTo(values, 0);
        }
        else if (type is OnnxDataType.UInt32 or OnnxDataType.UInt64)
        {
            CheckLength(proto.Uint64Data.Count, n, what);
            for (int i = 0; i < n; i++) values[i] = (long)proto.Uint64Data[i];
        }
        else
        {
            CheckLength(proto.Int32Data.Count, n, what);
            for (int i = 0; i < n; i++) values[i] = proto.Int32Data[i];
        }
        return values;
    }

    private static void CheckLength(long actual, long expected, string what)
    {
        if (actual != expected)
            throw new InvalidDataException($"{what} holds {actual} data units but its shape needs {expected} (truncated or corrupted file?)");
    }

    private static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    private static long ParseSize(string text, string field, string what) =>
        long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value
        : throw new InvalidDataException($"{what}: external data {field} '{DisplayText.Quote(text, 24)}' is not a non-negative integer");

    private static byte[] ReadExternal(TensorProto proto, string? baseDirectory, string what)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseSize(entry.Value, "offset", what); break;
                case "length": length = ParseSize(entry.Value, "length", what); break;
            }
        }
        if (location is null) throw new InvalidDataException($"{what} is stored externally but names no 'location'");
        // External data lives beside the model and nowhere else: a location that leaves the model's folder is refused.
        var folder = Path.GetFullPath(baseDirectory ?? ".");
        var path = Path.GetFullPath(Path.Combine(folder, location));
        var relative = Path.GetRelativePath(folder, path);
        if (Path.IsPathRooted(location) || relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar) || Path.IsPathRooted(relative))
            throw new InvalidDataException($"{what} names the external data file '{DisplayText.Quote(location)}', which lies outside the model's folder: refused");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{what} is stored in the external data file '{DisplayText.Quote(location)}', which was not found beside the model", path);
        using var stream = File.OpenRead(path);
        if (length < 0) length = stream.Length - offset;
        if (offset < 0 || offset + length > stream.Length)
            throw new InvalidDataException($"{what}: external data range [{offset}, {offset + length}) lies outside '{location}' ({stream.Length} bytes)");
        var bytes = new byte[length];
        stream.Seek(offset, SeekOrigin.Begin);
        stream.ReadExactly(bytes);
        return bytes;
    }
}
