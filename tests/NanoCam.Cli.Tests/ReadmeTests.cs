using System.Text.RegularExpressions;

namespace NanoCam.Cli.Tests;

/// <summary>
/// The README as a user reads it: exactly two set-up commands, and every <c>nanocam …</c> command it shows parses
/// against the real command line (known verb, known options, values of the right type), every verb shown at least once.
/// </summary>
public sealed class ReadmeTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(CliHarness.RepoRoot, "README.md"));

    /// <summary>The commands of the README's ```bash blocks, continuation lines joined, comments dropped.</summary>
    private static IEnumerable<(string Section, string Command)> Commands()
    {
        string section = "";
        bool inBash = false;
        string pending = "";
        foreach (var raw in Readme.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (!inBash && line.StartsWith("## ")) section = line[3..];
            if (line.StartsWith("```")) { inBash = !inBash && line == "```bash"; continue; }
            if (!inBash) continue;
            var code = Regex.Replace(line, @"\s+#\s.*$", "").Trim();
            if (code.StartsWith('#') || code.Length == 0) continue;
            if (code.EndsWith('\\')) { pending += code[..^1] + " "; continue; }
            yield return (section, pending + code);
            pending = "";
        }
    }

    [Fact]
    public void SetUp_ShowsExactlyTwoCommands_TheDemoAndTheTests()
    {
        var setUp = Commands().Where(c => c.Section.StartsWith("Set-up")).Select(c => c.Command).ToArray();
        Assert.Equal(["dotnet run --project src/NanoCam.Cli -c Release -- demo", "dotnet test NanoCam.sln -c Release"], setUp);
    }

    [Fact]
    public void EveryNanocamCommandShown_ParsesAgainstTheRealCommandLine_AndEveryVerbIsShown()
    {
        var shown = Commands().Select(c => c.Command).Where(c => c.StartsWith("nanocam ")).ToArray();
        Assert.True(shown.Length >= 10, $"the README shows only {shown.Length} nanocam commands");
        var verbs = new HashSet<string>();
        foreach (var command in shown)
        {
            var args = command.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
            var parse = NanoCamCommand.Create().Parse(args);
            Assert.True(parse.Errors.Count == 0, $"README: `{command}` does not parse: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
            verbs.Add(args[0]);
        }
        var missing = NanoCamCommand.Create().Subcommands.Select(c => c.Name).Where(v => !verbs.Contains(v)).ToArray();
        Assert.True(missing.Length == 0, $"the README shows no example of: {string.Join(", ", missing)}");
    }

    [Fact]
    public void TheToolIsInstalledOrAliased_BeforeTheFirstNanocamExample()
    {
        int install = Readme.IndexOf("dotnet tool install", StringComparison.Ordinal);
        int alias = Readme.IndexOf("alias nanocam=", StringComparison.Ordinal);
        int firstExample = Readme.IndexOf("\nnanocam ", StringComparison.Ordinal);
        Assert.True(install > 0 && alias > 0 && firstExample > 0, "the README must say how to get the nanocam command (tool install, or an alias) and use it");
        Assert.True(Math.Min(install, alias) < firstExample, "the README uses nanocam before saying how to install it or alias it");
    }
}
