using System.Globalization;
using System.Text;
using Parquet;
using Parquet.Schema;

namespace NanoCam.Cli.Shared;

/// <summary>
/// One row of the results table: one (image, method, target). The map is row <see cref="MapIndex"/> of the [rows, H, W]
/// float32 array in <see cref="MapFile"/> (relative to the results folder). The metric fields are set with --metrics.
/// </summary>
public sealed record ResultRow(string File, long Index, string Method, string Target, int Class, string? ClassName, int? Label,
    float Score, float Probability, string MapFile, int MapIndex)
{
    public double? DeletionAuc { get; init; }
    public double? InsertionAuc { get; init; }
    public double? DropPercent { get; init; }
    public bool? Increase { get; init; }
    public bool? PointingHit { get; init; }
    public bool? LocalizationHit { get; init; }
}

/// <summary>
/// The results table as Apache Parquet (Parquet.Net, one row group per write; pandas, DuckDB and Spark read it) or CSV.
/// Columns, snake_case: file, index, method, target, class, class_name, label, score (y^c before softmax), probability,
/// map_file, map_index; with metrics also deletion_auc, insertion_auc, drop_percent, increase, pointing_hit, localization_hit.
/// </summary>
public static class ResultsTable
{
    private static readonly DataField<string> File = new("file", false), Method = new("method", false), Target = new("target", false),
        ClassName = new("class_name", true), MapFile = new("map_file", false);
    private static readonly DataField<long> Index = new("index");
    private static readonly DataField<int> Class = new("class"), MapIndex = new("map_index");
    private static readonly DataField<int?> Label = new("label");
    private static readonly DataField<float> Score = new("score"), Probability = new("probability");
    private static readonly DataField<double> DeletionAuc = new("deletion_auc"), InsertionAuc = new("insertion_auc"), DropPercent = new("drop_percent");
    private static readonly DataField<bool> Increase = new("increase");
    private static readonly DataField<bool?> PointingHit = new("pointing_hit"), LocalizationHit = new("localization_hit");

    private static ParquetSchema Schema(bool metrics) => new(metrics
        ? [File, Index, Method, Target, Class, ClassName, Label, Score, Probability, MapFile, MapIndex, DeletionAuc, InsertionAuc, DropPercent, Increase, PointingHit, LocalizationHit]
        : [File, Index, Method, Target, Class, ClassName, Label, Score, Probability, MapFile, MapIndex]);

    /// <summary>The Parquet bytes of <paramref name="rows"/> in one row group; the metric columns when <paramref name="metrics"/>.</summary>
    public static byte[] ToParquet(IReadOnlyList<ResultRow> rows, bool metrics) => Run(async () =>
    {
        using var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(Schema(metrics), stream, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(File, rows.Select(r => r.File).ToArray());
            await group.WriteAsync<long>(Index, rows.Select(r => r.Index).ToArray());
            await group.WriteAsync(Method, rows.Select(r => r.Method).ToArray());
            await group.WriteAsync(Target, rows.Select(r => r.Target).ToArray());
            await group.WriteAsync<int>(Class, rows.Select(r => r.Class).ToArray());
            await group.WriteAsync(ClassName, rows.Select(r => r.ClassName!).ToArray());
            await group.WriteAsync<int>(Label, rows.Select(r => r.Label).ToArray());
            await group.WriteAsync<float>(Score, rows.Select(r => r.Score).ToArray());
            await group.WriteAsync<float>(Probability, rows.Select(r => r.Probability).ToArray());
            await group.WriteAsync(MapFile, rows.Select(r => r.MapFile).ToArray());
            await group.WriteAsync<int>(MapIndex, rows.Select(r => r.MapIndex).ToArray());
            if (metrics)
            {
                await group.WriteAsync<double>(DeletionAuc, rows.Select(r => r.DeletionAuc ?? double.NaN).ToArray());
                await group.WriteAsync<double>(InsertionAuc, rows.Select(r => r.InsertionAuc ?? double.NaN).ToArray());
                await group.WriteAsync<double>(DropPercent, rows.Select(r => r.DropPercent ?? double.NaN).ToArray());
                await group.WriteAsync<bool>(Increase, rows.Select(r => r.Increase ?? false).ToArray());
                await group.WriteAsync<bool>(PointingHit, rows.Select(r => r.PointingHit).ToArray());
                await group.WriteAsync<bool>(LocalizationHit, rows.Select(r => r.LocalizationHit).ToArray());
            }
        }
        return stream.ToArray();
    });

    /// <summary>The rows of a table written by <see cref="ToParquet"/>, every row group in order; and whether it has the metric columns.</summary>
    public static (List<ResultRow> Rows, bool Metrics) ReadParquet(string path) => Run(async () =>
    {
        await using var stream = System.IO.File.OpenRead(path);
        await using var reader = await ParquetReader.CreateAsync(stream);
        var names = reader.Schema.DataFields.Select(f => f.Name).ToArray();
        bool metrics = names.Contains(DeletionAuc.Name);
        if (!Schema(metrics).DataFields.Select(f => f.Name).SequenceEqual(names))
            throw new InvalidDataException($"'{path}' is not an explain-dataset table: its columns are {string.Join(", ", names)}");
        var rows = new List<ResultRow>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            int n = checked((int)group.RowCount);
            async Task<T[]> Read<T>(DataField<T> field) where T : struct { var v = new T[n]; await group.ReadAsync<T>(field, v); return v; }
            async Task<T?[]> ReadNullable<T>(DataField<T?> field) where T : struct { var v = new T?[n]; await group.ReadAsync<T>(field, v); return v; }
            async Task<string[]> ReadText(DataField<string> field) { var v = new string[n]; await group.ReadAsync(field, v); return v; }
            var (file, index, method, target) = (await ReadText(File), await Read(Index), await ReadText(Method), await ReadText(Target));
            var (cls, className, label) = (await Read(Class), await ReadText(ClassName), await ReadNullable(Label));
            var (score, probability, mapFile, mapIndex) = (await Read(Score), await Read(Probability), await ReadText(MapFile), await Read(MapIndex));
            double[]? deletion = null, insertion = null, drop = null;
            bool[]? increase = null;
            bool?[]? pointing = null, localization = null;
            if (metrics)
            {
                (deletion, insertion, drop) = (await Read(DeletionAuc), await Read(InsertionAuc), await Read(DropPercent));
                (increase, pointing, localization) = (await Read(Increase), await ReadNullable(PointingHit), await ReadNullable(LocalizationHit));
            }
            for (int i = 0; i < n; i++)
                rows.Add(new ResultRow(file[i], index[i], method[i], target[i], cls[i], className[i], label[i], score[i], probability[i], mapFile[i], mapIndex[i])
                {
                    DeletionAuc = deletion?[i], InsertionAuc = insertion?[i], DropPercent = drop?[i], Increase = increase?[i],
                    PointingHit = pointing?[i], LocalizationHit = localization?[i],
                });
        }
        return (rows, metrics);
    });

    /// <summary>The same table as CSV (RFC 4180 quoting, invariant numbers, round-trip floats, empty for a missing value).</summary>
    public static string ToCsv(IReadOnlyList<ResultRow> rows, bool metrics)
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', Schema(metrics).DataFields.Select(f => f.Name)).Append('\n');
        static string Text(string? v) => v is null ? "" : v.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{v.Replace("\"", "\"\"")}\"" : v;
        static string Number<T>(T? v) where T : struct, IFormattable => v is { } x ? x.ToString(x is float or double ? "R" : null, CultureInfo.InvariantCulture) : "";
        static string Flag(bool? v) => v is { } b ? (b ? "true" : "false") : "";
        foreach (var r in rows)
        {
            csv.AppendJoin(',', Text(r.File), Number<long>(r.Index), Text(r.Method), Text(r.Target), Number<int>(r.Class), Text(r.ClassName), Number(r.Label),
                Number<float>(r.Score), Number<float>(r.Probability), Text(r.MapFile), Number<int>(r.MapIndex));
            if (metrics)
                csv.Append(',').AppendJoin(',', Number(r.DeletionAuc), Number(r.InsertionAuc), Number(r.DropPercent), Flag(r.Increase), Flag(r.PointingHit), Flag(r.LocalizationHit));
            csv.Append('\n');
        }
        return csv.ToString();
    }

    // Parquet.Net is asynchronous; the command line is not.
    private static T Run<T>(Func<Task<T>> body) => Task.Run(body).GetAwaiter().GetResult();
}
