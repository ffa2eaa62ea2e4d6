namespace NanoCam.Data;

/// <summary>
/// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B, each 32×32 row-major),
/// so a record is already CHW. Train = data_batch_1..5.bin, test = test_batch.bin.
/// </summary>
public sealed class Cifar10Dataset : Dataset
{
    /// <summary>Bytes per record: 1 + 3·32·32.</summary>
    public const int RecordSize = 1 + 3 * 32 * 32;

    private static readonly string[] DefaultNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    private readonly byte[] _records;
    private readonly string[] _classNames;

    /// <summary>Loads the given batch files, in order.</summary>
    public Cifar10Dataset(IReadOnlyList<string> batchFiles, IReadOnlyList<string>? classNames = null)
    {
        if (batchFiles.Count == 0) throw new ArgumentException("no CIFAR-10 batch files given", nameof(batchFiles));
        using var all = new MemoryStream();
        foreach (string file in batchFiles)
        {
            byte[] bytes;
            try { bytes = File.ReadAllBytes(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidDataException($"{file}: cannot read: {e.Message}", e);
            }
            if (bytes.Length == 0 || bytes.Length % RecordSize != 0)
                throw new InvalidDataException($"{file}: length {bytes.Length} is not a positive multiple of the CIFAR-10 record size {RecordSize}");
            all.Write(bytes);
        }
        _records = all.ToArray();
        _classNames = classNames?.ToArray() ?? DefaultNames;
        Count = _records.Length / RecordSize;
        for (int i = 0; i < Count; i++)
            if (_records[i * RecordSize] >= _classNames.Length)
                throw new InvalidDataException($"CIFAR-10 record {i} has label {_records[i * RecordSize]}, outside the {_classNames.Length} classes");
        Source = string.Join(", ", batchFiles.Select(Path.GetFileName));
    }

    public string Source { get; }
    public override int Count { get; }
    public override IReadOnlyList<string> ClassNames => _classNames;
    public override int Channels => 3;
    public override int Height => 32;
    public override int Width => 32;
    public override string Description => $"cifar10 {Source} ({Count} × 3×32×32)";

    /// <summary>
    /// Opens a split of a directory (or of its cifar-10-batches-bin sub-folder); class names come from batches.meta.txt
    /// when present. When only one split is present it is used whatever split was asked.
    /// </summary>
    public static Cifar10Dataset FromDirectory(string directory, string split)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"CIFAR-10 directory not found: {directory}");
        string nested = Path.Combine(directory, "cifar-10-batches-bin");
        if (Directory.Exists(nested) && !File.Exists(Path.Combine(directory, "test_batch.bin"))) directory = nested;
        string[] train = Enumerable.Range(1, 5).Select(k => Path.Combine(directory, $"data_batch_{k}.bin")).Where(File.Exists).ToArray();
        string[] test = new[] { Path.Combine(directory, "test_batch.bin") }.Where(File.Exists).ToArray();
        string[] wanted = SplitNames.Normalize(split) == SplitNames.Train ? train : test;
        if (wanted.Length == 0) wanted = train.Length > 0 ? train : test;
        if (wanted.Length == 0)
            throw new FileNotFoundException($"{directory}: no CIFAR-10 batches found (expected data_batch_1..5.bin and/or test_batch.bin)");

        string meta = Path.Combine(directory, "batches.meta.txt");
        string[]? names = File.Exists(meta) ? File.ReadAllLines(meta).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray() : null;
        return new Cifar10Dataset(wanted, names is { Length: > 0 } ? names : null);
    }

    public override void GetImage(int index, Span<float> chw)
    {
        CheckIndex(index);
        CheckDestination(chw);
        ReadOnlySpan<byte> pixels = _records.AsSpan(index * RecordSize + 1, RecordSize - 1);
        for (int i = 0; i < pixels.Length; i++) chw[i] = pixels[i] * (1f / 255f);
    }

    public override int GetLabel(int index)
    {
        CheckIndex(index);
        return _records[index * RecordSize];
    }
}
