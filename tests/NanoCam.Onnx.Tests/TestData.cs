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

    /// <summary>
    /// A shared photo as SqueezeNet's input [1, 3, H, W]: planar, channel order BGR, raw 0–255 values, no mean/std
    /// (the decoder's [0, 1] values times 255, rounded back to the file's bytes).
    /// </summary>
    public static Tensor BgrImage(string name)
    {
        var image = Imaging.ImageCodec.Load(Path("images", name));
        int plane = image.Width * image.Height;
        var rgb = new float[3 * plane];
        image.ToPlanar(rgb);
        var bgr = new float[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++) bgr[c * plane + i] = MathF.Round(rgb[(2 - c) * plane + i] * 255f);
        return Tensor.FromArray(bgr, 1, 3, image.Height, image.Width);
    }

    public static int[] TopK(float[] values, int k) =>
        values.Select((v, i) => (v, i)).OrderByDescending(p => p.v).Take(k).Select(p => p.i).ToArray();
}
