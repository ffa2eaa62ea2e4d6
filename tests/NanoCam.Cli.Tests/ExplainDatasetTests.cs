using System.Diagnostics;
using NanoCam.Cli.Shared;
using Parquet;

namespace NanoCam.Cli.Tests;

/// <summary>
/// explain-dataset and merge as a batch job uses them: shards of one run, one of them killed mid-way and resumed, merged,
/// give the table and every map byte for byte as one unsharded run; bad input gets one line and a non-zero exit.
/// </summary>
public sealed class ExplainDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-dataset").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string Shapes = Path.Combine(CliHarness.Weights, "shapes-vgg.safetensors");

    // 96 images in 6 chunks of 16: 2 chunks per shard of 3; two gradient methods sharing a pass, two targets, the metrics.
    private static string[] Run(string output, params string[] extra) =>
    [
        "explain-dataset", "--model", Shapes, "--data", "shapes#0-96", "--methods", "gradcam,gradcam++", "--targets", "topk:2",
        "--chunk", "16", "--metrics", "--steps", "4", "--threads", "1", "--csv", "--out", output, .. extra,
    ];

    private string Folder(string name) => Path.Combine(_dir, name);

    [Fact]
    public void ThreeShards_OneKilledAfterItsFirstChunkAndResumed_MergeToTheTableAndMapsOfOneUnshardedRun()
    {
        var whole = CliHarness.Run(Run(Folder("whole")));
        Assert.True(whole.ExitCode == 0, whole.Stderr);

        string[] shards = [Folder("shard0"), Folder("shard1"), Folder("shard2")];
        foreach (int i in new[] { 0, 2 })
        {
            var shard = CliHarness.Run(Run(shards[i], "--shard", $"{i}/3"));
            Assert.True(shard.ExitCode == 0, shard.Stderr);
        }
        // Shard 1 is killed as soon as its first chunk is recorded, then resumed: the finished chunk is not redone.
        KillAfterFirstChunk(Run(shards[1], "--shard", "1/3"), Path.Combine(shards[1], "chunks"));
        Assert.Single(Directory.GetFiles(Path.Combine(shards[1], "chunks"), "chunk-*.json"));
        Assert.False(File.Exists(Path.Combine(shards[1], "results.parquet")));
        var resumed = CliHarness.Run(Run(shards[1], "--shard", "1/3", "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("shard 1/3: 2 chunks, 1 already finished (skipped)", resumed.Stdout);
        Assert.Contains("chunk 4: 16 images", resumed.Stdout);
        Assert.DoesNotContain("chunk 1: 16 images", resumed.Stdout);

        var merged = CliHarness.Run("merge", shards[0], shards[1], shards[2], "--out", Folder("merged"), "--csv");
        Assert.True(merged.ExitCode == 0, merged.Stderr);
        Assert.Contains("6 chunks from 3 folder(s), 384 rows", merged.Stdout);

        // The table read back with Parquet.Net: 96 images × 2 methods × 2 targets, the documented columns, equal rows.
        string expectedTable = Path.Combine(Folder("whole"), "results.parquet"), mergedTable = Path.Combine(Folder("merged"), "results.parquet");
        Assert.Equal(
            ["file", "index", "method", "target", "class", "class_name", "label", "score", "probability", "map_file", "map_index",
             "deletion_auc", "insertion_auc", "drop_percent", "increase", "pointing_hit", "localization_hit"],
            ColumnsOf(mergedTable));
        var (expectedRows, _) = ResultsTable.ReadParquet(expectedTable);
        var (mergedRows, metrics) = ResultsTable.ReadParquet(mergedTable);
        Assert.True(metrics);
        Assert.Equal(384, expectedRows.Count);
        Assert.Equal(expectedRows, mergedRows);
        Assert.Equal(File.ReadAllBytes(expectedTable), File.ReadAllBytes(mergedTable));
        Assert.Equal(File.ReadAllText(Path.Combine(Folder("whole"), "results.csv")), File.ReadAllText(Path.Combine(Folder("merged"), "results.csv")));

        // Every map, byte for byte; every row points at a map that exists.
        var expectedMaps = MapFiles(Folder("whole"));
        Assert.Equal(12, expectedMaps.Length);
        Assert.Equal(expectedMaps, MapFiles(Folder("merged")));
        foreach (var map in expectedMaps)
            Assert.True(File.ReadAllBytes(Path.Combine(Folder("whole"), map)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Folder("merged"), map))), map);
        Assert.All(mergedRows, r => Assert.Contains(r.MapFile, expectedMaps));
        Assert.Equal(Enumerable.Range(0, 96).Select(i => $"shapes#{i}"), mergedRows.Select(r => r.File).Distinct());
    }

    [Fact]
    public void EveryRow_NamesItsMapRow_AndTheMapIsGradCamOfThatClass()
    {
        var run = CliHarness.Run("explain-dataset", "--model", Shapes, "--data", "shapes#10-30", "--methods", "gradcam,cam", "--targets", "topk:2",
            "--chunk", "8", "--out", Folder("run"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("chunk 2: 4 images", run.Stdout); // plain lines when the output is not a terminal
        var (rows, metrics) = ResultsTable.ReadParquet(Path.Combine(Folder("run"), "results.parquet"));
        Assert.False(metrics);
        Assert.Equal(20 * 2 * 2, rows.Count);
        Assert.Equal(10, rows[0].Index);
        Assert.Equal("shapes#10", rows[0].File);
        foreach (var row in rows)
        {
            var (maps, shape) = NanoCam.Imaging.Npy.Read(Path.Combine(Folder("run"), row.MapFile));
            Assert.Equal(64, shape[1]);
            var map = maps.AsSpan(row.MapIndex * 64 * 64, 64 * 64);
            Assert.InRange(map.ToArray().Max(), 0.999f, 1f);
            Assert.True(row.Target is "top1" or "top2");
            Assert.NotNull(row.Label);
        }
        // Top-1 and top-2 are different classes; top-1 has the higher score.
        foreach (var image in rows.GroupBy(r => (r.Index, r.Method)))
        {
            var (top1, top2) = (image.Single(r => r.Target == "top1"), image.Single(r => r.Target == "top2"));
            Assert.NotEqual(top1.Class, top2.Class);
            Assert.True(top1.Score >= top2.Score);
        }
    }

    [Theory]
    [InlineData(2, "unknown method 'nosuch' in --methods", "--methods", "nosuch")]
    [InlineData(1, "--shard '3/2': I must be in 0…1", "--shard", "3/2")]
    [InlineData(1, "--shard '0/0': N must be at least 1", "--shard", "0/0")]
    [InlineData(1, "--shard 'x' is not I/N", "--shard", "x")]
    [InlineData(1, "--targets 'topk:9': K must be a whole number in 1…6", "--targets", "topk:9")]
    [InlineData(1, "--targets 'banana' is not predicted, true, topk:K or a class", "--targets", "banana")]
    [InlineData(1, "--chunk must be at least 1, got 0", "--chunk", "0")]
    [InlineData(1, "layer 'nosuch' does not exist", "--layer", "nosuch")]
    public void BadInput_GetsOneLine_ANonZeroExit_AndWritesNothing(int exitCode, string message, params string[] option)
    {
        var (code, _, stderr) = CliHarness.Run(["explain-dataset", "--model", Shapes, "--data", "shapes#0-4", "--out", Folder("out"), .. option]);
        Assert.Equal(exitCode, code);
        Assert.Equal($"nanocam: error: ", stderr.Trim().Split('\n').Single()[..16]);
        Assert.Contains(message, stderr);
        Assert.False(Directory.Exists(Folder("out")));
    }

    [Fact]
    public void Resume_OnAFolderOfAnotherCommand_OrOfAnotherRun_IsRefusedInOneLine()
    {
        var other = Directory.CreateDirectory(Folder("demo")).FullName;
        File.WriteAllText(Path.Combine(other, "index.html"), "<html></html>");
        var (code, _, stderr) = CliHarness.Run("explain-dataset", "--model", Shapes, "--data", "shapes#0-4", "--out", other, "--resume");
        Assert.Equal(1, code);
        Assert.Equal($"nanocam: error: --resume: '{other}' holds no explain-dataset run (no run.json): give the --out of the run to resume", stderr.Trim());

        Assert.Equal(0, CliHarness.Run("explain-dataset", "--model", Shapes, "--data", "shapes#0-4", "--out", Folder("run")).ExitCode);
        (code, _, stderr) = CliHarness.Run("explain-dataset", "--model", Shapes, "--data", "shapes#0-4", "--out", Folder("run"), "--resume", "--chunk", "2");
        Assert.Equal(1, code);
        Assert.Contains("holds a run with another chunk (64 there, 2 here)", stderr);
        Assert.Single(stderr.Trim().Split('\n'));

        (code, _, stderr) = CliHarness.Run("merge", Folder("run"), other);
        Assert.Equal(1, code);
        Assert.Contains($"'{other}' holds no explain-dataset run", stderr);
    }

    [Fact]
    public void Resume_OfARunThatNeverStarted_StartsIt()
    {
        var (code, stdout, stderr) = CliHarness.Run("explain-dataset", "--model", Shapes, "--data", "shapes#0-4", "--out", Folder("new"), "--resume");
        Assert.True(code == 0, stderr);
        Assert.Contains("4 rows written", stdout);
    }

    [Fact]
    public void AFolderOfImages_InClassSubFolders_IsLabelledByThem_AndAPlainFolderHasNoLabelsForTargetsTrue()
    {
        var labelled = Directory.CreateDirectory(Folder("digits")).FullName;
        Directory.CreateDirectory(Path.Combine(labelled, "7"));
        Directory.CreateDirectory(Path.Combine(labelled, "3"));
        File.Copy(Path.Combine(CliHarness.SharedData, "images", "mnist_28.png"), Path.Combine(labelled, "7", "a.png"));
        File.Copy(Path.Combine(CliHarness.SharedData, "images", "mnist_28.png"), Path.Combine(labelled, "3", "b.png"));
        var mnist = Path.Combine(CliHarness.Weights, "mnist-gapcnn.safetensors");
        var (code, _, stderr) = CliHarness.Run("explain-dataset", "--model", mnist, "--data", labelled, "--targets", "true", "--methods", "gradcam,guided-backprop",
            "--out", Folder("run"), "--csv");
        Assert.True(code == 0, stderr);
        var (rows, _) = ResultsTable.ReadParquet(Path.Combine(Folder("run"), "results.parquet"));
        // Files in ordinal order of their sub-folders; a sub-folder named as a class of the model is that class.
        Assert.Equal(["3/b.png", "3/b.png", "7/a.png", "7/a.png"], rows.Select(r => r.File));
        Assert.Equal([3, 3, 7, 7], rows.Select(r => r.Label!.Value));
        Assert.Equal([3, 3, 7, 7], rows.Select(r => r.Class));
        Assert.Equal(["gradcam", "guided-backprop", "gradcam", "guided-backprop"], rows.Select(r => r.Method));
        Assert.StartsWith("file,index,method,target,class,class_name,label,score,probability,map_file,map_index\n3/b.png,0,gradcam,true,3,3,3,",
            File.ReadAllText(Path.Combine(Folder("run"), "results.csv")));

        (code, _, stderr) = CliHarness.Run("explain-dataset", "--model", mnist, "--data", Path.Combine(labelled, "7"), "--targets", "true", "--out", Folder("plain"));
        Assert.Equal(1, code);
        Assert.Equal("nanocam: error: --targets true needs labels, and these images have none (a folder labels its images with one sub-folder per class)", stderr.Trim());
        Assert.False(Directory.Exists(Folder("plain")));
    }

    [Fact]
    public void Merge_OfUnfinishedShards_NamesTheMissingChunks()
    {
        Assert.Equal(0, CliHarness.Run("explain-dataset", "--model", Shapes, "--data", "shapes#0-12", "--chunk", "4", "--shard", "0/2", "--out", Folder("s0")).ExitCode);
        var (code, _, stderr) = CliHarness.Run("merge", Folder("s0"));
        Assert.Equal(1, code);
        Assert.Contains("1 of 3 chunks are not finished (chunk 1)", stderr);
    }

    [Theory]
    [InlineData("0/1", 5, new[] { 0, 1, 2, 3, 4 })]
    [InlineData("1/3", 8, new[] { 1, 4, 7 })]
    [InlineData("2/3", 2, new int[0])]
    public void Shard_OwnsEveryNthChunk_FromI(string shard, int chunks, int[] owned) =>
        Assert.Equal(owned, ShardSpec.Parse(shard).ChunksOf(chunks));

    [Fact]
    public void Shards_PartitionTheChunks()
    {
        var all = Enumerable.Range(0, 4).SelectMany(i => ShardSpec.Parse($"{i}/4").ChunksOf(37)).Order();
        Assert.Equal(Enumerable.Range(0, 37), all);
    }

    private static string[] ColumnsOf(string parquet)
    {
        using var stream = File.OpenRead(parquet);
        var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
        try { return [.. reader.Schema.DataFields.Select(f => f.Name)]; }
        finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    private static string[] MapFiles(string folder) =>
        [.. Directory.GetFiles(Path.Combine(folder, "maps"), "*.npy", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];

    /// <summary>Starts nanocam, waits for the first chunk manifest in <paramref name="chunks"/>, and kills the process there.</summary>
    private static void KillAfterFirstChunk(string[] args, string chunks)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nanocam.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var limit = Stopwatch.StartNew();
        while (!(Directory.Exists(chunks) && Directory.GetFiles(chunks, "chunk-*.json").Length > 0))
        {
            if (process.HasExited) throw new InvalidOperationException($"nanocam exited ({process.ExitCode}) before its first chunk was recorded");
            if (limit.Elapsed > TimeSpan.FromMinutes(5)) { process.Kill(true); throw new TimeoutException("no chunk was recorded in 5 minutes"); }
            Thread.Sleep(10);
        }
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }
}
