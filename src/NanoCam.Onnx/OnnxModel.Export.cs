using System.Buffers.Binary;
using Google.Protobuf;
using NanoCam.Onnx.Protos;

namespace NanoCam.Onnx;

public sealed partial class OnnxModel
{
    /// <summary>
    /// The model as a serialized ModelProto with the parameters' current values: the file's graph, opsets and metadata as
    /// they were read, each float initializer written inline in its original element type (FLOAT, FLOAT16, BFLOAT16 or
    /// DOUBLE, so every Cast and type in the graph still agrees), integer constants as the file held them.
    /// <paramref name="metadata"/> entries replace or add <c>metadata_props</c>.
    /// </summary>
    public byte[] ToOnnxBytes(IReadOnlyDictionary<string, string>? metadata = null) => ToProto(withWeights: true, metadata).ToByteArray();

    /// <summary>Writes <see cref="ToOnnxBytes"/> atomically: to PATH.tmp, then renamed over PATH.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var bytes = ToOnnxBytes(metadata);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>
    /// A copy of the file's model; with <paramref name="withWeights"/> the float initializers carry the parameters'
    /// values, else they keep only their name, type and dimensions (a graph checkpoint holds the values beside it).
    /// </summary>
    internal ModelProto ToProto(bool withWeights, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var model = _proto.Clone();
        foreach (var init in model.Graph.Initializer)
        {
            if (!_parameters.TryGetValue(init.Name, out var parameter)) continue;
            ClearData(init);
            if (withWeights) Encode(init, parameter.ToArray(), _floatTypes.GetValueOrDefault(init.Name, OnnxDataType.Float));
        }
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            var entry = model.MetadataProps.FirstOrDefault(e => e.Key == key);
            if (entry is null) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
            else entry.Value = value;
        }
        return model;
    }

    /// <summary>The element type a float initializer had in the file (FLOAT for names that are not parameters).</summary>
    public OnnxDataType ParameterType(string name) => _floatTypes.GetValueOrDefault(name, OnnxDataType.Float);

    private static void ClearData(TensorProto init)
    {
        init.ClearRawData();
        init.FloatData.Clear();
        init.DoubleData.Clear();
        init.Int32Data.Clear();
        init.ExternalData.Clear();
        init.DataLocation = TensorProto.Types.DataLocation.Default;
    }

    /// <summary>
    /// <paramref name="values"/> as the little-endian raw data of <paramref name="type"/>: FLOAT16 and BFLOAT16 rounded to
    /// nearest (even), DOUBLE widened exactly. The 8- and 4-bit float types are refused in one line.
    /// </summary>
    internal static void Encode(TensorProto init, ReadOnlySpan<float> values, OnnxDataType type)
    {
        byte[] bytes;
        switch (type)
        {
            case OnnxDataType.Float:
                bytes = new byte[4 * values.Length];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
                break;
            case OnnxDataType.Double:
                bytes = new byte[8 * values.Length];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(8 * i), values[i]);
                break;
            case OnnxDataType.Float16:
                bytes = new byte[2 * values.Length];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)values[i]);
                break;
            case OnnxDataType.BFloat16:
                bytes = new byte[2 * values.Length];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), ToBFloat16(values[i]));
                break;
            default:
                throw new NotSupportedException($"initializer '{DisplayText.Quote(init.Name)}' is {type.Spelling()}; NanoCam writes FLOAT, FLOAT16, BFLOAT16 and DOUBLE weights");
        }
        init.DataType = (int)type;
        init.RawData = ByteString.CopyFrom(bytes);
    }

    /// <summary>The top half of a float32, rounded to nearest even (a NaN stays a quiet NaN).</summary>
    private static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
