using NanoCam.Autodiff;
using NanoCam.Core.Tests;
using NanoCam.Cpu.Naive;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>DepthToSpace's element placement in both modes, its backward, and SpaceToDepth as the inverse of DCR.</summary>
public sealed class DepthToSpaceTests
{
    [Theory]
    [InlineData("DCR")]
    [InlineData("CRD")]
    public void DepthToSpace_PlacesEachChannelInItsBlock_AndBackwardMatchesFiniteDifferences(string mode)
    {
        // x [2, 12, 2, 3], blocksize 2 → [2, 3, 4, 6].
        var x = Ramp([2, 12, 2, 3]);
        var model = SingleNode(Node("DepthToSpace", ["x"], ["y"], ("blocksize", 2), ("mode", mode)), 13);
        var y = model.Run(NoGrad(), x);
        Assert.Equal([2, 3, 4, 6], y.Shape.ToArray());
        // y[n, c, h·b + i, w·b + j] = x[n, (i·b + j)·C/b² + c, h, w] (DCR) or x[n, c·b² + i·b + j, h, w] (CRD).
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
                for (int h = 0; h < 2; h++)
                    for (int w = 0; w < 3; w++)
                        for (int i = 0; i < 2; i++)
                            for (int j = 0; j < 2; j++)
                            {
                                int channel = mode == "DCR" ? (i * 2 + j) * 3 + c : c * 4 + i * 2 + j;
                                Assert.Equal(x[n, channel, h, w], y[n, c, h * 2 + i, w * 2 + j]);
                            }
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, x), [x]);
    }

    [Fact]
    public void SpaceToDepth_UndoesDepthToSpaceInDcrMode()
    {
        var x = Ramp([1, 18, 2, 2]);
        var graph = Graph([Node("DepthToSpace", ["x"], ["s"], ("blocksize", 3)), Node("SpaceToDepth", ["s"], ["y"], ("blocksize", 3))], "x", "y");
        var y = Load(graph, 13).Run(NoGrad(), x);
        Assert.Equal(x.Shape, y.Shape);
        Assert.Equal(x.ToArray(), y.ToArray());
    }

    private static Tape NoGrad() => new(new NaiveKernels()) { GradEnabled = false };

    /// <summary>Distinct values 0.1·k − 1 (no two alike, so a misplaced element is seen).</summary>
    private static Tensor Ramp(int[] dims)
    {
        var size = new Shape(dims).Size;
        return Tensor.FromArray(Enumerable.Range(0, size).Select(i => 0.1f * i - 1f).ToArray(), dims);
    }
}
