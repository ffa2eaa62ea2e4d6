using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NanoCam.Benchmarks.Infrastructure;

/// <summary>
/// torch-cam's latency table, beside Mean and StdDev: "Overhead" = Mean of the case − Mean of the forward-only case
/// with the same other parameters (its <c>Algorithm</c> parameter is <see cref="ForwardMethod"/>), and "× forward" =
/// that overhead ÷ the forward's Mean. Cases of types without an <c>Algorithm</c> parameter show "-".
/// </summary>
public sealed class OverheadColumn(bool relative) : IColumn
{
    /// <summary>The value of the <c>Algorithm</c> parameter that marks the forward-only baseline.</summary>
    public const string ForwardMethod = "forward";

    public static readonly OverheadColumn Absolute = new(false), Relative = new(true);

    public string Id => relative ? "OverheadRatioColumn" : "OverheadColumn";
    public string ColumnName => relative ? "× forward" : "Overhead";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => relative ? 2 : 1;
    public bool IsNumeric => true;
    public UnitType UnitType => relative ? UnitType.Dimensionless : UnitType.Time;
    public string Legend => relative
        ? "Overhead ÷ the Mean of the forward-only case with the same parameters"
        : "Mean − the Mean of the forward-only case (Algorithm = forward) with the same parameters: the cost of the explanation beyond one forward pass";

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => MethodOf(c) is not null);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (MethodOf(benchmarkCase) is null) return "-";
        var forward = summary.BenchmarksCases.FirstOrDefault(c => c.Descriptor.Type == benchmarkCase.Descriptor.Type
            && MethodOf(c) == ForwardMethod && SameOtherParameters(c, benchmarkCase));
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        double? forwardMean = forward is null ? null : summary[forward]?.ResultStatistics?.Mean;
        if (mean is null || forwardMean is not > 0) return "-";
        double overhead = mean.Value - forwardMean.Value; // nanoseconds
        var culture = style.CultureInfo ?? CultureInfo.InvariantCulture;
        return relative ? (overhead / forwardMean.Value).ToString("0.00", culture) + "×" : (overhead / 1e6).ToString("0.000", culture) + " ms";
    }

    public override string ToString() => ColumnName;

    private static string? MethodOf(BenchmarkCase c) =>
        c.Parameters.Items.FirstOrDefault(p => p.Name == "Algorithm")?.Value as string;

    private static bool SameOtherParameters(BenchmarkCase a, BenchmarkCase b) =>
        a.Parameters.Items.Where(p => p.Name != "Algorithm").All(p => Equals(p.Value, b.Parameters[p.Name]));
}
