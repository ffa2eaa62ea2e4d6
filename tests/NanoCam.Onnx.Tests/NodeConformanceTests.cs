using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using Xunit.Abstractions;

namespace NanoCam.Onnx.Tests;

/// <summary>Runs the ONNX project's backend node tests (shared/data/onnx-node-tests) through the importer on the naive kernels.</summary>
public sealed class NodeConformanceTests(ITestOutputHelper output)
{
    // |actual − expected| ≤ AbsoluteTolerance + RelativeTolerance · |expected| (tighter than the upstream rtol 1e-3, atol 1e-7).
    private const double RelativeTolerance = 1e-5;
    private const double AbsoluteTolerance = 1e-6;

    /// <summary>Cases whose stored outputs carry fewer digits than float32 gives, with the relative tolerance they allow.</summary>
    private static readonly Dictionary<string, (double Relative, string Reason)> LooserTolerance = new()
    {
        // The generator rounded this expected output to 4 decimals (0.1511 for 0.151055…); the upstream rtol is 1e-3.
        ["test_averagepool_2d_ceil_last_window_starts_on_pad"] = (1e-3, "expected output stored rounded to 4 decimals"),
    };

    [Fact]
    public void NodeTests_EveryCaseMatchesTheStoredOutputs()
    {
        var root = TestData.Path("onnx-node-tests");
        var dirs = Directory.GetDirectories(root, "test_*").OrderBy(d => d, StringComparer.Ordinal).ToList();
        var passed = new List<string>();
        var unsupported = new Dictionary<string, string>();
        var failures = new List<string>();
        foreach (var dir in dirs)
        {
            var name = Path.GetFileName(dir);
            try
            {
                var relative = LooserTolerance.TryGetValue(name, out var loose) ? loose.Relative : RelativeTolerance;
                var error = RunCase(dir, relative);
                if (error is null) passed.Add(name); else failures.Add($"{name}: {error}");
            }
            catch (NotSupportedException ex) { unsupported[name] = ex.Message; }
            catch (Exception ex) { failures.Add($"{name}: {ex.GetType().Name}: {ex.Message}"); }
        }
        output.WriteLine($"tolerance: |Δ| ≤ {AbsoluteTolerance:g} + {RelativeTolerance:g}·|expected| (integer outputs exact)");
        output.WriteLine($"{passed.Count}/{dirs.Count} node tests passed ({unsupported.Count} unsupported, {failures.Count} failed)");
        foreach (var (name, loose) in LooserTolerance) output.WriteLine($"  looser tolerance for {name}: rtol {loose.Relative:g} ({loose.Reason})");
        foreach (var (name, why) in unsupported) output.WriteLine($"  unsupported {name}: {why}");
        foreach (var f in failures) output.WriteLine($"  FAILED {f}");

        Assert.Empty(failures);
        Assert.Empty(unsupported);
        Assert.Equal(dirs.Count, passed.Count);
        Assert.True(dirs.Count >= 148, $"expected the 148 node tests, found {dirs.Count}");
    }

    /// <summary>Null when every output matches; else what differs.</summary>
    private static string? RunCase(string dir, double relativeTolerance)
    {
        var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
        var data = Path.Combine(dir, "test_data_set_0");
        var inputs = new Dictionary<string, OnnxValue>();
        for (int i = 0; i < model.Inputs.Count; i++)
            inputs[model.Inputs[i].Name] = OnnxTensors.ReadTensorFile(Path.Combine(data, $"input_{i}.pb"));
        var tape = new Tape(new NaiveKernels()) { GradEnabled = false };
        var outputs = model.Run(tape, inputs);
        for (int j = 0; j < model.OutputNames.Count; j++)
        {
            var expected = OnnxTensors.ReadTensorFile(Path.Combine(data, $"output_{j}.pb"));
            var actual = outputs[model.OutputNames[j]];
            if (!actual.Dims.SequenceEqual(expected.Dims))
                return $"output {j}: shape [{string.Join(", ", actual.Dims)}], expected [{string.Join(", ", expected.Dims)}]";
            if (!expected.IsFloat)
            {
                if (!actual.ToInt64Array().SequenceEqual(expected.ToInt64Array())) return $"output {j}: integer values differ";
                continue;
            }
            var e = expected.ToFloatArray();
            var a = actual.ToFloatArray();
            for (int i = 0; i < e.Length; i++)
            {
                bool same = float.IsNaN(e[i]) ? float.IsNaN(a[i]) : e[i] == a[i] || Math.Abs(a[i] - e[i]) <= AbsoluteTolerance + relativeTolerance * Math.Abs(e[i]);
                if (!same) return $"output {j}[{i}]: {a[i]:R}, expected {e[i]:R}";
            }
        }
        return null;
    }
}
