using System.Globalization;

namespace NanoCam.Onnx.Tests;

/// <summary>Locates shared/data (NANOCAM_DATA, or a shared/data folder beside or above the test binaries).</summary>
internal static class TestData
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    private static string FindRoot()
    {
        if (Environment.GetEnvironmentVariable("NANOCAM_DATA") is { Length: > 0 } env && Directory.Exists(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        const string fallback = "/work/shared/data";
        return Directory.Exists(fallback) ? fallback : throw new DirectoryNotFoundException("shared/data not found; set NANOCAM_DATA");
    }

    /// <summary>One line of comma-separated numbers (the reference input tensors).</summary>
    public static float[] ReadValuesLine(string path) =>
        File.ReadAllText(path).Split([',', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)
            .Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>"Index,Value" files (the reference outputs), in index order.</summary>
    public static float[] ReadIndexValue(string path)
    {
        var rows = File.ReadAllLines(path).Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(',')).Select(p => (Index: int.Parse(p[0], CultureInfo.InvariantCulture), Value: float.Parse(p[1], CultureInfo.InvariantCulture)))
            .ToList();
        var values = new float[rows.Count];
        foreach (var (i, v) in rows) values[i] = v;
        return values;
    }

    public static int[] TopK(float[] values, int k) =>
        values.Select((v, i) => (v, i)).OrderByDescending(p => p.v).Take(k).Select(p => p.i).ToArray();
}
