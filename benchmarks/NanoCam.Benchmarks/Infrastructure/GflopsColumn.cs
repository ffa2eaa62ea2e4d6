using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NanoCam.Benchmarks.Infrastructure;

/// <summary>
/// "GFLOP/s" = FLOPs per operation / mean time per operation; FLOPs come from the benchmark type's
/// <see cref="IFlopCounted.FlopsPerInvocation"/>, found by reflection in the host process. A FLOP per nanosecond is a GFLOP/s.
/// </summary>
public sealed class GflopsColumn : IColumn
{
    public static readonly GflopsColumn Instance = new();

    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Floating-point operations per second, in billions: FlopsPerInvocation / Mean (see benchmarks/README.md for what each case counts)";

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => FindCounter(c.Descriptor.Type) is not null);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNanoseconds = summary[benchmarkCase]?.ResultStatistics?.Mean;
        double flops = FlopsPerOperation(benchmarkCase);
        if (meanNanoseconds is not > 0 || !(flops > 0)) return "-";
        return (flops / meanNanoseconds.Value).ToString("N2", style.CultureInfo ?? CultureInfo.InvariantCulture);
    }

    /// <summary>FLOPs behind one measured operation (BenchmarkDotNet divides the mean by OperationsPerInvoke).</summary>
    public static double FlopsPerOperation(BenchmarkCase benchmarkCase)
    {
        var counter = FindCounter(benchmarkCase.Descriptor.Type);
        if (counter is null) return double.NaN;
        var parameters = benchmarkCase.Parameters.Items.ToDictionary(p => p.Name, p => (object?)p.Value);
        double perInvocation = (double)counter.Invoke(null, [benchmarkCase.Descriptor.WorkloadMethod.Name, parameters])!;
        return perInvocation / benchmarkCase.Descriptor.OperationsPerInvoke;
    }

    public override string ToString() => ColumnName;

    private static MethodInfo? FindCounter(Type type) =>
        type.GetInterfaces().Contains(typeof(IFlopCounted))
            ? type.GetMethod(nameof(IFlopCounted.FlopsPerInvocation), BindingFlags.Public | BindingFlags.Static,
                [typeof(string), typeof(IReadOnlyDictionary<string, object?>)])
            : null;
}
