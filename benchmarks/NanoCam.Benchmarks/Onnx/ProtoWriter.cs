using System.Buffers.Binary;
using System.Text;

namespace NanoCam.Benchmarks.Onnx;

/// <summary>
/// Just enough of the protobuf wire format to write an ONNX model (setup code, so it allocates freely).
/// A field is a key varint (fieldNumber·8 + wireType) followed by its payload: wire type 0 is a varint,
/// wire type 2 a varint length then that many bytes (strings, bytes, nested messages).
/// </summary>
public sealed class ProtoWriter
{
    private const int WireVarint = 0;
    private const int WireLengthDelimited = 2;

    private readonly MemoryStream _bytes = new();

    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>An int64/int32/enum field (non-negative values: every field ONNX needs here).</summary>
    public ProtoWriter Varint(int field, long value)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), "negative varints take ten bytes; not needed here");
        Key(field, WireVarint);
        WriteVarint((ulong)value);
        return this;
    }

    /// <summary>A repeated int64 field written unpacked (one key per element), proto2's default encoding.</summary>
    public ProtoWriter Varints(int field, IEnumerable<long> values)
    {
        foreach (long value in values) Varint(field, value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Key(field, WireLengthDelimited);
        WriteVarint((ulong)value.Length);
        _bytes.Write(value);
        return this;
    }

    /// <summary>Little-endian float32s as a bytes field (ONNX TensorProto.raw_data).</summary>
    public ProtoWriter Floats(int field, ReadOnlySpan<float> values)
    {
        var raw = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), values[i]);
        return Bytes(field, raw);
    }

    /// <summary>A nested message: written by <paramref name="body"/> into its own buffer, then embedded length-delimited.</summary>
    public ProtoWriter Message(int field, Action<ProtoWriter> body)
    {
        var nested = new ProtoWriter();
        body(nested);
        return Bytes(field, nested.ToArray());
    }

    private void Key(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    // Seven bits per byte, least significant group first; the high bit says another byte follows.
    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.WriteByte((byte)value);
    }
}
