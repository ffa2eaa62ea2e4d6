using System.Text.RegularExpressions;
using NanoCam.Tutorials;

namespace NanoCam.Explain.Tests;

/// <summary>docs/walkthrough-tutorial.md: its code is docs/tutorial/WalkthroughTutorial.cs, compiled into this project and run here.</summary>
public class WalkthroughTutorialTests
{
    [Fact]
    public void Tutorial_RunsOnTheShippedWeights_AndItsClaimsHold()
    {
        var log = new StringWriter();
        var found = WalkthroughTutorial.Run(RepositoryFiles.Root, log);
        Assert.Equal(found.TrueClass, found.PredictedClass);
        Assert.True(found.HandMapDifference <= 1e-4f * Math.Abs(found.NetworkScore), log.ToString());
        Assert.True(Math.Abs(found.RecomputedScore - found.NetworkScore) <= 1e-4 * Math.Abs(found.NetworkScore),
            $"y^c recomputed {found.RecomputedScore} vs network {found.NetworkScore}");
        Assert.Equal(1024, found.Z); // 32×32 at shapes-vgg's feature layer
        Assert.Equal(found.Z, found.CamOverGradCam, found.Z * 1e-4);
        Assert.Contains("(Z = 1024)", log.ToString());
        // The output the tutorial shows is the output it prints.
        var markdown = File.ReadAllText(RepositoryFiles.PathOf("docs/walkthrough-tutorial.md")).ReplaceLineEndings("\n");
        string printed = log.ToString().ReplaceLineEndings("\n");
        Assert.True(Regex.Match(markdown, "```text\n(.*?)```", RegexOptions.Singleline).Groups[1].Value == printed,
            $"the tutorial's output block differs from what it prints:\n{printed}");
    }

    [Fact]
    public void TheMarkdownsCodeBlock_IsTheCompiledFile()
    {
        var markdown = File.ReadAllText(RepositoryFiles.PathOf("docs/walkthrough-tutorial.md")).ReplaceLineEndings("\n");
        var blocks = Regex.Matches(markdown, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Assert.Single(blocks);
        var code = File.ReadAllText(RepositoryFiles.PathOf("docs/tutorial/WalkthroughTutorial.cs")).ReplaceLineEndings("\n");
        Assert.Equal(code, blocks[0].Groups[1].Value);
    }
}
