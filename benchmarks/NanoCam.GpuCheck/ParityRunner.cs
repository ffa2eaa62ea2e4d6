using System.Reflection;
using NanoCam.Gpu.Tests;
using Xunit;
using Xunit.Sdk;

namespace NanoCam.GpuCheck;

/// <summary>
/// Runs the ILGPU parity test classes (tests/NanoCam.Gpu.Tests, the same code CI runs on the CPU accelerator) on a
/// named device without a test runner: every [Fact] and every data row of every [Theory], one table row each, with the
/// largest scaled error it saw against the naive CPU backend.
/// </summary>
public static class ParityRunner
{
    private sealed class Conv(string d) : ConvParityTests(d);
    private sealed class Gemm(string d) : GemmParityTests(d);
    private sealed class Pooling(string d) : PoolingParityTests(d);
    private sealed class Elementwise(string d) : ElementwiseParityTests(d);
    private sealed class BatchNorm(string d) : BatchNormParityTests(d);
    private sealed class Softmax(string d) : SoftmaxParityTests(d);
    private sealed class Layout(string d) : LayoutParityTests(d);
    private sealed class Optimizer(string d) : OptimizerParityTests(d);
    private sealed class Engine(string d) : EngineParityTests(d);
    private sealed class Function(string d) : FunctionParityTests(d);

    /// <summary>Prints the table; returns the number of failed rows.</summary>
    public static int Run(string device, TextWriter output)
    {
        Func<string, object>[] families =
        [
            d => new Conv(d), d => new Gemm(d), d => new Pooling(d), d => new Elementwise(d), d => new BatchNorm(d),
            d => new Softmax(d), d => new Layout(d), d => new Optimizer(d), d => new Engine(d), d => new Function(d),
        ];
        var kernels = TestDevices.Get(device);
        output.WriteLine($"ILGPU parity against the naive CPU backend on {device} ({kernels.Device.Description}), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine($"| family | test | case | max scaled error | tolerance | result |");
        output.WriteLine($"| --- | --- | --- | --- | --- | --- |");
        int failed = 0, passed = 0;
        foreach (var make in families)
        {
            var instance = make(device);
            string family = instance.GetType().BaseType!.Name;
            foreach (var method in instance.GetType().GetMethods(BindingFlags.Public | BindingFlags.Instance)
                         .Where(m => m.GetCustomAttribute<FactAttribute>() is not null))
            {
                foreach (var row in Rows(method))
                {
                    string label = string.Join(", ", row.Select(Describe).Where(d => d.Length > 0));
                    string result;
                    try
                    {
                        method.Invoke(instance, row);
                        result = "pass";
                        passed++;
                    }
                    catch (TargetInvocationException e)
                    {
                        result = "FAIL: " + e.InnerException!.Message.ReplaceLineEndings(" ");
                        failed++;
                    }
                    var log = ParityLog.Drain();
                    string error = log.Count == 0 ? "exact" : $"{log.Max(l => l.Error):E2}";
                    string tolerance = log.Count == 0 ? "" : $"{log.Max(l => l.Tolerance):E0}";
                    output.WriteLine($"| {family} | {method.Name} | {label} | {error} | {tolerance} | {result} |");
                }
            }
        }
        output.WriteLine($"{passed} passed, {failed} failed");
        return failed;
    }

    /// <summary>No arguments for a [Fact]; the rows of every data attribute for a [Theory].</summary>
    private static IEnumerable<object?[]> Rows(MethodInfo method)
    {
        var data = method.GetCustomAttributes<DataAttribute>().ToList();
        if (data.Count == 0) return [[]];
        return data.SelectMany(d => d.GetData(method));
    }

    private static string Describe(object? value) => value switch
    {
        int[] dims => $"[{string.Join(",", dims)}]",
        Conv2dGeometry or Pool2dGeometry or RemapPlan => "", // named by the case's label argument
        null => "null",
        _ => value.ToString() ?? "",
    };
}
