using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using NanoCam.Onnx;

namespace NanoCam.Benchmarks;

/// <summary>
/// <see cref="OnnxModel.Load(string)"/> of the largest models of shared/data/models/zoo: parse the memory-mapped file,
/// decode every initializer, check the graph. The File and Allocated / file columns set the memory diagnoser's
/// Allocated against the file's size (the importer keeps a model's weights at most twice while it loads).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(LoadColumns))]
public class OnnxLoadBenchmarks
{
    [Params("mobilenet_v3_small_op13", "mnasnet0_5", "shufflenet_v2_x0_5")]
    public string Model { get; set; } = "";

    public static string PathOf(string model) => SharedData.Path("models", "zoo", $"{model}.onnx");

    [Benchmark]
    public OnnxModel Load() => OnnxModel.Load(PathOf(Model));

    private sealed class LoadColumns : ManualConfig
    {
        public LoadColumns()
        {
            AddColumn(new FileColumn(false), new FileColumn(true));
            SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(32);
        }
    }

    /// <summary>"File" (MiB on disk) or "Allocated / file" (the memory diagnoser's bytes per load over the file's bytes).</summary>
    private sealed class FileColumn(bool ratio) : IColumn
    {
        public string Id => ratio ? "AllocatedPerFile" : "FileMiB";
        public string ColumnName => ratio ? "Allocated / file" : "File";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Metric;
        public int PriorityInCategory => ratio ? 10 : 9;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => ratio ? "Allocated bytes per load ÷ the .onnx file's size" : "The .onnx file's size in MiB";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var model = (string)benchmarkCase.Parameters[nameof(Model)];
            double file = new FileInfo(PathOf(model)).Length;
            var culture = style.CultureInfo ?? CultureInfo.InvariantCulture;
            if (!ratio) return (file / (1 << 20)).ToString("F2", culture) + " MiB";
            var report = summary[benchmarkCase];
            if (report is null) return "-";
            long allocated = report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase) ?? -1;
            return allocated < 0 ? "-" : (allocated / file).ToString("F2", culture) + "×";
        }

        public override string ToString() => ColumnName;
    }
}
