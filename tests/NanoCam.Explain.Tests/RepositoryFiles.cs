namespace NanoCam.Explain.Tests;

/// <summary>Files of the repository itself (docs, weights, sources), found from the test's output folder.</summary>
internal static class RepositoryFiles
{
    /// <summary>The folder that holds NanoCam.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NanoCam.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no NanoCam.sln above {AppContext.BaseDirectory}");
    }
}
