using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NanoCam.Cli.Shared;

/// <summary>
/// What makes two explain-dataset runs the same run: shards of it may share a folder, be resumed and be merged. The
/// shard (I/N) is not part of it: chunks are numbered over the whole data set, so any shards of the same run fit together.
/// </summary>
public sealed record RunSettings(
    [property: JsonPropertyName("command")] string Command,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("model_sha256")] string ModelSha256,
    [property: JsonPropertyName("preprocessing")] string? Preprocessing,
    [property: JsonPropertyName("data")] string Data,
    [property: JsonPropertyName("split")] string Split,
    [property: JsonPropertyName("images")] int Images,
    [property: JsonPropertyName("methods")] string Methods,
    [property: JsonPropertyName("targets")] string Targets,
    [property: JsonPropertyName("layer")] string Layer,
    [property: JsonPropertyName("chunk")] int Chunk,
    [property: JsonPropertyName("metrics")] bool Metrics,
    [property: JsonPropertyName("steps")] int Steps)
{
    /// <summary>The command that writes such folders.</summary>
    public const string ExplainDataset = "explain-dataset";

    /// <summary>The relevance methods' options in words (LRP rule, FG-CAM base), when a method of the run reads them; absent otherwise.</summary>
    [JsonPropertyName("method_options"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MethodOptions { get; init; }

    /// <summary>Chunks over the whole data set: ⌈images / chunk⌉.</summary>
    [JsonIgnore] public int Chunks => (Images + Chunk - 1) / Chunk;

    /// <summary>The SHA-256 of a model file, in hex.</summary>
    public static string Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The first setting in which <paramref name="other"/> differs, in words ("chunk (64 in OTHER, 16 in THIS)"); null when none does.</summary>
    public string? Difference(RunSettings other, string thisName = "here", string otherName = "there")
    {
        using var mine = JsonDocument.Parse(JsonSerializer.Serialize(this));
        using var theirs = JsonDocument.Parse(JsonSerializer.Serialize(other));
        foreach (var property in mine.RootElement.EnumerateObject())
        {
            string here = property.Value.GetRawText(), there = theirs.RootElement.TryGetProperty(property.Name, out var value) ? value.GetRawText() : "none";
            if (here != there) return $"{property.Name} ({there} {otherName}, {here} {thisName})";
        }
        // A setting only the other run has (one written only when set).
        foreach (var property in theirs.RootElement.EnumerateObject())
            if (!mine.RootElement.TryGetProperty(property.Name, out _)) return $"{property.Name} ({property.Value.GetRawText()} {otherName}, none {thisName})";
        return null;
    }
}

/// <summary>One completed chunk: written after its maps and its part of the table, so a chunk with a manifest is whole.</summary>
public sealed record ChunkManifest(
    [property: JsonPropertyName("chunk")] int Chunk,
    [property: JsonPropertyName("first")] int First,
    [property: JsonPropertyName("images")] int Images,
    [property: JsonPropertyName("rows")] int Rows,
    [property: JsonPropertyName("files")] IReadOnlyList<ManifestFile> Files);

/// <summary>A file of a chunk, relative to the results folder, with its size (checked on resume and merge).</summary>
public sealed record ManifestFile([property: JsonPropertyName("path")] string Path, [property: JsonPropertyName("bytes")] long Bytes);

/// <summary>
/// The results folder of explain-dataset: <c>run.json</c> (the <see cref="RunSettings"/>), per chunk k and method
/// <c>maps/METHOD/chunk-k.npy</c> (float32 [rows, H, W], rows image-major then target), <c>parts/chunk-k.parquet</c>
/// (the chunk's rows) and, written last, <c>chunks/chunk-k.json</c>; then <c>results.parquet</c> (and <c>results.csv</c>)
/// of the whole run, and its gallery, <c>index.html</c> over <c>thumbs/</c>. Every file is written to a temporary name and renamed into place.
/// </summary>
public sealed class ResultsFolder(string root)
{
    public const string SettingsFile = "run.json", Table = "results.parquet", CsvTable = "results.csv";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public string Root { get; } = root;

    public static string MapFile(string method, int chunk) => $"maps/{method}/chunk-{chunk:D5}.npy";
    public static string PartFile(int chunk) => $"parts/chunk-{chunk:D5}.parquet";
    public static string ManifestFile(int chunk) => $"chunks/chunk-{chunk:D5}.json";

    /// <summary>The full path of a file of the folder given relative to it.</summary>
    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>The settings of the run in this folder; null when it holds none; a run.json of something else is refused.</summary>
    public RunSettings? ReadSettings()
    {
        string path = PathOf(SettingsFile);
        if (!File.Exists(path)) return null;
        RunSettings? settings;
        try { settings = JsonSerializer.Deserialize<RunSettings>(File.ReadAllText(path)); }
        catch (JsonException) { settings = null; }
        if (settings?.Command != RunSettings.ExplainDataset)
            throw new InvalidDataException($"'{Root}' holds a {SettingsFile} that is not from explain-dataset: give the folder of an explain-dataset run");
        return settings;
    }

    /// <summary>
    /// Makes the folder ready for <paramref name="settings"/>: a new folder gets run.json; a folder of the same run is
    /// reused (shards may share it); a folder of another run, or <paramref name="resume"/> on a folder that holds
    /// something other than a run, is refused.
    /// </summary>
    public void Prepare(RunSettings settings, bool resume)
    {
        var existing = ReadSettings();
        if (existing is null)
        {
            if (resume && Directory.Exists(Root) && Directory.EnumerateFileSystemEntries(Root).Any(entry => !IsOwn(Path.GetFileName(entry))))
                throw new ArgumentException($"--resume: '{Root}' holds no explain-dataset run (no {SettingsFile}): give the --out of the run to resume");
            Directory.CreateDirectory(Root);
            WriteAtomically(SettingsFile, JsonSerializer.SerializeToUtf8Bytes(settings, Indented));
            return;
        }
        if (settings.Difference(existing) is { } difference)
            throw new ArgumentException(resume
                ? $"--resume: '{Root}' holds a run with another {difference}: resume with the same options, or write to another --out"
                : $"'{Root}' already holds the results of another run ({difference}): give another --out, or resume that run with its own options");
    }

    /// <summary>
    /// Whether a folder entry is one a run writes: a run killed before its run.json was in place (or a shard that starts
    /// while another is writing it) leaves only these, and --resume may start there.
    /// </summary>
    private static bool IsOwn(string name) =>
        name is "maps" or "parts" or "chunks" || name.StartsWith(SettingsFile, StringComparison.Ordinal) || name.StartsWith(Table, StringComparison.Ordinal)
        || name.StartsWith(CsvTable, StringComparison.Ordinal);

    /// <summary>The chunks whose manifest is there and whose every file has the size it records.</summary>
    public SortedDictionary<int, ChunkManifest> CompletedChunks()
    {
        var done = new SortedDictionary<int, ChunkManifest>();
        string folder = PathOf("chunks");
        if (!Directory.Exists(folder)) return done;
        foreach (var path in Directory.GetFiles(folder, "chunk-*.json"))
        {
            ChunkManifest? manifest;
            try { manifest = JsonSerializer.Deserialize<ChunkManifest>(File.ReadAllText(path)); }
            catch (JsonException) { continue; }
            if (manifest is null || Path.GetFileName(path) != Path.GetFileName(ManifestFile(manifest.Chunk))) continue;
            if (manifest.Files.All(f => new FileInfo(PathOf(f.Path)) is { Exists: true } info && info.Length == f.Bytes)) done[manifest.Chunk] = manifest;
        }
        return done;
    }

    /// <summary>Records chunk <paramref name="manifest"/> as complete (its files must be in place).</summary>
    public void WriteManifest(ChunkManifest manifest) =>
        WriteAtomically(ManifestFile(manifest.Chunk), JsonSerializer.SerializeToUtf8Bytes(manifest, Indented));

    /// <summary>Writes a file of the folder under a temporary name unique to this process, then renames it into place.</summary>
    public ManifestFile WriteAtomically(string relative, ReadOnlySpan<byte> bytes)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None)) stream.Write(bytes);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { }
            throw;
        }
        return new ManifestFile(relative, bytes.Length);
    }

    /// <summary>
    /// Joins the runs in <paramref name="sources"/> (shards of one run, in one folder or several) into
    /// <paramref name="output"/>: every chunk's files are copied there when they are elsewhere, and the rows of every chunk,
    /// in chunk order, become results.parquet (and results.csv when <paramref name="csv"/>), and the gallery
    /// (<see cref="Gallery"/>: index.html and thumbs/) is made from them. Returns (rows, chunks).
    /// </summary>
    public static (int Rows, int Chunks) Merge(IReadOnlyList<string> sources, string output, bool csv)
    {
        if (sources.Count == 0) throw new ArgumentException("merge: give at least one results folder");
        RunSettings? settings = null;
        var chunks = new SortedDictionary<int, (ResultsFolder Folder, ChunkManifest Manifest)>();
        foreach (var source in sources)
        {
            if (!Directory.Exists(source)) throw new ArgumentException($"'{source}' is not a folder: give the --out folders of explain-dataset runs");
            var folder = new ResultsFolder(source);
            var mine = folder.ReadSettings() ?? throw new ArgumentException($"'{source}' holds no explain-dataset run (no {SettingsFile})");
            if (settings is null) settings = mine;
            else if (mine.Difference(settings, $"in '{source}'", $"in '{sources[0]}'") is { } difference)
                throw new ArgumentException($"'{source}' holds another run than '{sources[0]}': {difference}");
            foreach (var (chunk, manifest) in folder.CompletedChunks()) chunks.TryAdd(chunk, (folder, manifest));
        }
        var missing = Enumerable.Range(0, settings!.Chunks).Where(k => !chunks.ContainsKey(k)).ToArray();
        if (missing.Length > 0)
            throw new ArgumentException($"{missing.Length} of {settings.Chunks} chunks are not finished (chunk {string.Join(", ", missing.Take(10))}{(missing.Length > 10 ? ", …" : "")}): "
                + "run their shards to the end (--resume picks up where a shard stopped)");
        var target = new ResultsFolder(output);
        var existing = Directory.Exists(output) ? target.ReadSettings() : null;
        if (existing is not null && settings.Difference(existing) is { } other)
            throw new ArgumentException($"--out '{output}' holds another run ({other}): give another folder");
        if (existing is null) { Directory.CreateDirectory(output); target.WriteAtomically(SettingsFile, JsonSerializer.SerializeToUtf8Bytes(settings, Indented)); }
        var rows = new List<ResultRow>();
        bool metrics = settings.Metrics;
        foreach (var (chunk, (folder, manifest)) in chunks)
        {
            if (chunk >= settings.Chunks) continue;
            if (!SameFolder(folder.Root, output))
            {
                foreach (var file in manifest.Files) target.WriteAtomically(file.Path, File.ReadAllBytes(folder.PathOf(file.Path)));
                target.WriteManifest(manifest);
            }
            rows.AddRange(ResultsTable.ReadParquet(folder.PathOf(PartFile(chunk))).Rows);
        }
        target.WriteAtomically(Table, ResultsTable.ToParquet(rows, metrics));
        if (csv) target.WriteAtomically(CsvTable, System.Text.Encoding.UTF8.GetBytes(ResultsTable.ToCsv(rows, metrics)));
        if (Gallery.Write(target, settings, rows, metrics) is { } note) Console.Error.WriteLine(note);
        return (rows.Count, settings.Chunks);
    }

    private static bool SameFolder(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);
}
