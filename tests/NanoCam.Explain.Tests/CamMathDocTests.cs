using System.Text.RegularExpressions;

namespace NanoCam.Explain.Tests;

/// <summary>
/// docs/cam-math.md (and docs/pytorch-grad-cam-parity.md) point every equation at code: each `src/…` path they name must
/// exist and declare each `Type.Member` named after it.
/// </summary>
public class CamMathDocTests
{
    /// <summary>(file, type, member) for every `Type.Member` token, with the file the last `src/…` token named.</summary>
    private static List<(string File, string Type, string Member)> References(string markdown, List<string> orphans)
    {
        var references = new List<(string, string, string)>();
        string? file = null;
        bool fileHasMember = true;
        foreach (Match token in Regex.Matches(markdown, "`([^`\n]+)`"))
        {
            string text = token.Groups[1].Value;
            if (text.StartsWith("src/", StringComparison.Ordinal))
            {
                if (!fileHasMember) orphans.Add($"{file} names no member");
                file = text;
                fileHasMember = false;
            }
            else if (Regex.Match(text, @"^([A-Z]\w*)\.([A-Z]\w*)$") is { Success: true } member)
            {
                if (file is null) { orphans.Add($"{text} has no src/ path before it"); continue; }
                references.Add((file, member.Groups[1].Value, member.Groups[2].Value));
                fileHasMember = true;
            }
        }
        if (!fileHasMember) orphans.Add($"{file} names no member");
        return references;
    }

    [Theory]
    [InlineData("docs/cam-math.md", 25)]
    [InlineData("docs/pytorch-grad-cam-parity.md", 15)]
    public void EveryPathAndMemberNamedInTheDoc_ExistsInTheSources(string doc, int minimum)
    {
        var markdown = File.ReadAllText(RepositoryFiles.PathOf(doc));
        var problems = new List<string>();
        var references = References(markdown, problems);
        Assert.True(references.Count >= minimum, $"only {references.Count} code references found");
        foreach (var (file, type, member) in references)
        {
            var path = RepositoryFiles.PathOf(file);
            if (!File.Exists(path)) { problems.Add($"{file} does not exist"); continue; }
            var source = File.ReadAllText(path);
            if (!Regex.IsMatch(source, $@"\b(class|record|struct|interface)\s+{type}\b"))
                problems.Add($"{file} declares no type {type}");
            else if (!Regex.IsMatch(source, $@"\b{member}\s*(\(|<|=>|\{{)"))
                problems.Add($"{file} has no member {type}.{member}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheCheck_CatchesAMovedMember()
    {
        var problems = new List<string>();
        var references = References("`Orphan.Member` → `src/NanoCam.Explain/MapOps.cs` `MapOps.NoSuchMember`, `src/x.cs`", problems);
        Assert.Equal([("src/NanoCam.Explain/MapOps.cs", "MapOps", "NoSuchMember")], references);
        Assert.Equal(["Orphan.Member has no src/ path before it", "src/x.cs names no member"], problems);
        Assert.DoesNotMatch($@"\bNoSuchMember\s*(\(|<|=>|\{{)", File.ReadAllText(RepositoryFiles.PathOf(references[0].File)));
    }
}
