namespace NanoCam.Benchmarks.Infrastructure;

/// <summary>Finds the shared test data (models, images): NANOCAM_DATA, else a shared/data folder above the binaries, else /work/shared/data.</summary>
public static class SharedData
{
    public static string Path(params string[] parts)
    {
        if (Environment.GetEnvironmentVariable("NANOCAM_DATA") is { Length: > 0 } env && Directory.Exists(env))
            return System.IO.Path.Combine([env, .. parts]);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return System.IO.Path.Combine([candidate, .. parts]);
        }
        const string fallback = "/work/shared/data";
        return Directory.Exists(fallback) ? System.IO.Path.Combine([fallback, .. parts])
            : throw new DirectoryNotFoundException("shared/data not found; set NANOCAM_DATA");
    }
}
