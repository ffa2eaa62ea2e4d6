using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace NanoCam.Nn.Checkpoints;

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
/// {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}, then the raw
/// little-endian tensor bytes, offsets relative to the end of the header. Reading validates every claim of the header
/// against the file before allocating, so a lying header gets an error, never a giant allocation.
/// </summary>
public static class SafeTensors
{
    /// <summary>Largest header accepted (the format's reference reader uses 100 MB).</summary>
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>Writes the tensors (float32, in the given order) atomically: to PATH.tmp, then renamed over PATH.</summary>
    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in list)
            {
                writer.WriteStartObject(name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (var d in tensor.Shape.Dims) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset += 4L * tensor.Size);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        // Pad the header with spaces so the data starts 8-byte aligned (allowed by the format).
        int padding = (int)((8 - json.Length % 8) % 8);
        var header = json.ToArray().Concat(Enumerable.Repeat((byte)' ', padding)).ToArray();

        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            file.Write(length);
            file.Write(header);
            foreach (var (_, tensor) in list)
            {
                var values = tensor.ToArray();
                var bytes = new byte[values.Length * 4];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
                file.Write(bytes);
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>One tensor entry of a header.</summary>
    public sealed record Entry(string Name, string DType, int[] Shape, long Begin, long End);

    /// <summary>Reads every tensor as float32 (F16 and BF16 are widened); metadata is returned as strings.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint '{path}' not found");
        using var file = File.OpenRead(path);
        var (entries, metadata, dataStart) = ReadHeader(file, path);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var e in entries)
        {
            var bytes = new byte[e.End - e.Begin];
            file.Position = dataStart + e.Begin;
            file.ReadExactly(bytes);
            var values = Decode(bytes, e.DType);
            tensors[e.Name] = Tensor.FromArray(values, e.Shape);
        }
        return (tensors, metadata);
    }

    /// <summary>The header's <c>__metadata__</c> only (no tensor data is read); empty when there is none.</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint '{path}' not found");
        using var file = File.OpenRead(path);
        return ReadHeader(file, path).Metadata;
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ReadHeader(FileStream file, string path)
    {
        long fileLength = file.Length;
        if (fileLength < 8) throw new InvalidDataException($"checkpoint '{path}' is truncated: {fileLength} bytes, not even the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        file.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)Math.Min(MaxHeaderBytes, fileLength - 8))
            throw new InvalidDataException($"checkpoint '{path}' is corrupted or truncated: its header claims {headerLength} bytes but the file holds {fileLength - 8} after the length");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;

        JsonDocument document;
        try { document = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new InvalidDataException($"checkpoint '{path}' has a corrupted header (not JSON: {e.Message})"); }
        using var _ = document;
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"checkpoint '{path}': header is not a JSON object");

        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                continue;
            }
            entries.Add(ParseEntry(property, path, dataLength));
        }
        // No two tensors may share bytes.
        var sorted = entries.OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new InvalidDataException($"checkpoint '{path}': tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap");
        return (entries, metadata, dataStart);
    }

    private static Entry ParseEntry(JsonProperty property, string path, long dataLength)
    {
        string name = property.Name;
        try
        {
            var v = property.Value;
            string dtype = v.GetProperty("dtype").GetString() ?? "";
            int elementSize = dtype switch
            {
                "F32" => 4,
                "F16" or "BF16" => 2,
                _ => throw new InvalidDataException($"checkpoint '{path}': tensor '{name}' has dtype {dtype}; NanoCam reads F32, F16 and BF16"),
            };
            var shape = v.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var offsets = v.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                throw new InvalidDataException($"checkpoint '{path}': tensor '{name}' has invalid data_offsets");
            if (shape.Any(d => d < 0)) throw new InvalidDataException($"checkpoint '{path}': tensor '{name}' has a negative dimension");
            long elements = 1;
            foreach (var d in shape) elements = checked(elements * d);
            if (elements * elementSize != offsets[1] - offsets[0])
                throw new InvalidDataException($"checkpoint '{path}': tensor '{name}' of shape [{string.Join(", ", shape)}] {dtype} needs {elements * elementSize} bytes but its offsets span {offsets[1] - offsets[0]}");
            if (offsets[1] > dataLength)
                throw new InvalidDataException($"checkpoint '{path}' is truncated: tensor '{name}' ends at byte {offsets[1]} of the data but only {dataLength} bytes are present");
            return new Entry(name, dtype, shape, offsets[0], offsets[1]);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"checkpoint '{path}': the header entry of tensor '{name}' is malformed ({e.Message})");
        }
    }

    private static float[] Decode(byte[] bytes, string dtype)
    {
        if (dtype == "F32")
        {
            var values = new float[bytes.Length / 4];
            for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
            return values;
        }
        var widened = new float[bytes.Length / 2];
        for (int i = 0; i < widened.Length; i++)
        {
            ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i));
            // BF16 is the top half of an F32.
            widened[i] = dtype == "F16" ? (float)BitConverter.UInt16BitsToHalf(bits) : BitConverter.Int32BitsToSingle(bits << 16);
        }
        return widened;
    }
}
