using NanoCam.Onnx;

namespace NanoCam.Explain.Tests;

/// <summary>The README's list of ONNX operators is the registry's, so neither can change without the other.</summary>
public sealed class ReadmeOperatorListTests
{
    [Fact]
    public void ReadmeListsExactlyTheOperatorsTheRegistryHolds()
    {
        var readme = File.ReadAllText(RepositoryFiles.PathOf("README.md"));
        int begin = readme.IndexOf("<!-- operators:begin -->", StringComparison.Ordinal), end = readme.IndexOf("<!-- operators:end -->", StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, "README.md has no operators:begin/end block");
        var listed = readme[(begin + "<!-- operators:begin -->".Length)..end]
            .Split([',', '\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Equal(OnnxModel.SupportedOperators, listed);
        Assert.Contains($"({OnnxModel.SupportedOperators.Count}, `OnnxModel.SupportedOperators`", readme);
    }
}
