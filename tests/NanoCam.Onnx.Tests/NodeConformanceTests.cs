using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using Xunit.Abstractions;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// Runs the ONNX project's backend node tests (shared/data/onnx-node-tests and onnx-node-tests-more, 148 + 329 cases)
/// through the importer on the naive kernels: every case must pass, none may be unsupported.
/// </summary>
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

    [Theory]
    [InlineData("onnx-node-tests", 148)]
    [InlineData("onnx-node-tests-more", 329)]
    public void NodeTests_EveryCaseMatchesTheStoredOutputs(string folder, int expectedCount)
    {
        var root = TestData.Path(folder);
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
        Assert.True(dirs.Count >= expectedCount, $"expected the {expectedCount} node tests of {folder}, found {dirs.Count}");
    }

    // The node tests of the data-movement operators (one SIMD remap each, or a few): the fast paths must agree too.
    private static readonly string[] DataMovementPrefixes =
        ["test_resize_", "test_upsample_", "test_transpose_", "test_constant_pad", "test_edge_pad", "test_reflect_pad", "test_wrap_pad",
         "test_slice", "test_tile", "test_expand_", "test_gather_", "test_depthtospace", "test_spacetodepth", "test_split_", "test_concat_"];

    [Theory]
    [InlineData("onnx-node-tests")]
    [InlineData("onnx-node-tests-more")]
    public void DataMovementNodeTests_MatchTheStoredOutputs_OnTheSimdKernels(string folder)
    {
        using var simd = new SimdKernels(threads: 2);
        var dirs = Directory.GetDirectories(TestData.Path(folder), "test_*").OrderBy(d => d, StringComparer.Ordinal)
            .Where(d => DataMovementPrefixes.Any(p => Path.GetFileName(d).StartsWith(p, StringComparison.Ordinal))).ToList();
        var failures = new List<string>();
        foreach (var dir in dirs)
        {
            try
            {
                if (RunCase(dir, RelativeTolerance, simd) is { } error) failures.Add($"{Path.GetFileName(dir)}: {error}");
            }
            catch (Exception ex) { failures.Add($"{Path.GetFileName(dir)}: {ex.GetType().Name}: {ex.Message}"); }
        }
        output.WriteLine($"{dirs.Count - failures.Count}/{dirs.Count} data-movement node tests passed on the SIMD kernels");
        foreach (var f in failures) output.WriteLine($"  FAILED {f}");
        Assert.Empty(failures);
        Assert.True(dirs.Count >= 10, $"expected data-movement node tests in {folder}, found {dirs.Count}");
    }

    /// <summary>Null when every output matches; else what differs.</summary>
    private static string? RunCase(string dir, double relativeTolerance, IKernels? kernels = null)
    {
        var model = OnnxModel.Load(Path.Combine(dir, "model.onnx"));
        var data = Path.Combine(dir, "test_data_set_0");
        var inputs = new Dictionary<string, OnnxValue>();
        for (int i = 0; i < model.Inputs.Count; i++)
            inputs[model.Inputs[i].Name] = OnnxTensors.ReadValueFile(Path.Combine(data, $"input_{i}.pb"), model.Inputs[i].Container);
        var tape = new Tape(kernels ?? new NaiveKernels()) { GradEnabled = false };
        var outputs = model.Run(tape, inputs);
        for (int j = 0; j < model.OutputNames.Count; j++)
        {
            var path = Path.Combine(data, $"output_{j}.pb");
            var actual = outputs[model.OutputNames[j]];
            var expected = OnnxTensors.ReadValueFile(path, actual.Kind is OnnxValueKind.Sequence or OnnxValueKind.None ? actual.Kind : OnnxValueKind.Tensor);
            if (Compare(expected, actual, relativeTolerance) is { } error) return $"output {j}: {error}";
        }
        return null;
    }

    /// <summary>Null when <paramref name="actual"/> matches <paramref name="expected"/>: shapes exactly, integers and strings exactly, floats within tolerance (NaN matches NaN).</summary>
    private static string? Compare(OnnxValue expected, OnnxValue actual, double relativeTolerance)
    {
        if (expected.Kind == OnnxValueKind.Sequence)
        {
            if (actual.Kind != OnnxValueKind.Sequence || actual.Items!.Count != expected.Items!.Count) return $"{actual}, expected {expected}";
            for (int i = 0; i < expected.Items.Count; i++)
                if (Compare(expected.Items[i], actual.Items[i], relativeTolerance) is { } error) return $"item {i}: {error}";
            return null;
        }
        if (expected.Kind == OnnxValueKind.None) return actual.Kind == OnnxValueKind.None ? null : $"{actual}, expected an empty optional";
        if (!actual.Dims.SequenceEqual(expected.Dims))
            return $"shape [{string.Join(", ", actual.Dims)}], expected [{string.Join(", ", expected.Dims)}]";
        if (expected.Strings is { } strings)
            return actual.Strings is { } got && got.SequenceEqual(strings) ? null : "strings differ";
        if (!expected.IsFloat)
            return actual.ToInt64Array().SequenceEqual(expected.ToInt64Array()) ? null : $"integer values differ: [{string.Join(", ", actual.ToInt64Array().Take(8))}…], expected [{string.Join(", ", expected.ToInt64Array().Take(8))}…]";
        var e = expected.ToFloatArray();
        var a = actual.ToFloatArray();
        for (int i = 0; i < e.Length; i++)
        {
            bool same = float.IsNaN(e[i]) ? float.IsNaN(a[i]) : e[i] == a[i] || Math.Abs(a[i] - e[i]) <= AbsoluteTolerance + relativeTolerance * Math.Abs(e[i]);
            if (!same) return $"[{i}]: {a[i]:R}, expected {e[i]:R}";
        }
        return null;
    }
}
