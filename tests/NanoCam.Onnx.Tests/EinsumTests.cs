using NanoCam.Autodiff;
using NanoCam.Core.Tests;
using NanoCam.Cpu.Naive;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// Einsum against the sum it denotes — out[output indices] = Σ over every other index of the product of the operands —
/// evaluated index by index; its backward against finite differences; diagonals refused.
/// </summary>
public sealed class EinsumTests
{
    [Theory]
    // equation, the same with the ellipsis spelled out (and the implicit output written), operand shapes
    [InlineData("ij,jk", "ij,jk->ik", new[] { 3, 4 }, new[] { 4, 2 })]
    [InlineData("ij->ji", "ij->ji", new[] { 3, 5 })]
    [InlineData("ijk->", "ijk->", new[] { 2, 3, 4 })]
    [InlineData("ij,ij->i", "ij,ij->i", new[] { 4, 3 }, new[] { 4, 3 })]
    [InlineData("i,j->ij", "i,j->ij", new[] { 3 }, new[] { 4 })]
    [InlineData("ij,kl->", "ij,kl->", new[] { 2, 3 }, new[] { 3, 2 })]
    [InlineData("iJ, Jk -> ki", "iJ,Jk->ki", new[] { 2, 3 }, new[] { 3, 4 })]
    [InlineData("bn,anm,bm->ba", "bn,anm,bm->ba", new[] { 2, 3 }, new[] { 4, 3, 5 }, new[] { 2, 5 })]
    [InlineData("...ij,...jk->...ik", "abij,bjk->abik", new[] { 2, 1, 3, 4 }, new[] { 5, 4, 2 })]
    [InlineData("i...,i...", "iab,iab->ab", new[] { 3, 2, 4 }, new[] { 3, 2, 4 })]
    public void Einsum_MatchesTheSumItDenotes(string equation, string spelledOut, params int[][] shapes)
    {
        var operands = shapes.Select((s, i) => Ramp(s, 0.3f + 0.2f * i)).ToArray();
        var names = operands.Select((_, i) => $"x{i}").ToArray();
        var model = SingleNode(Node("Einsum", names, ["y"], ("equation", equation)), 12);
        var y = model.Run(NoGrad(), Inputs(names, operands))["y"].Tensor!;

        var (expected, dims) = DirectSum(spelledOut, operands);
        Assert.Equal(dims, y.Shape.ToArray());
        var actual = y.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"[{i}] {actual[i]} vs {expected[i]}");
    }

    [Theory]
    [InlineData("bij,bjk->bik", new[] { 2, 2, 3 }, new[] { 2, 3, 4 })]
    [InlineData("...ij,jk->k...", new[] { 2, 3, 4 }, new[] { 4, 2 })]
    [InlineData("ij,jk,kl->il", new[] { 2, 3 }, new[] { 3, 2 }, new[] { 2, 3 })]
    public void Einsum_BackwardToEveryOperand_MatchesFiniteDifferences(string equation, params int[][] shapes)
    {
        var operands = shapes.Select((s, i) => Ramp(s, 0.4f + 0.3f * i)).ToArray();
        var names = operands.Select((_, i) => $"x{i}").ToArray();
        var model = SingleNode(Node("Einsum", names, ["y"], ("equation", equation)), 12);
        TapeGradientCheck.Check(new NaiveKernels(), tape => model.Run(tape, Inputs(names, operands))["y"].Tensor!, operands);
    }

    [Fact]
    public void Einsum_WithAnIndexRepeatedInOneOperand_IsRefusedAsADiagonal()
    {
        var model = SingleNode(Node("Einsum", ["x"], ["y"], ("equation", "ii->i")), 12);
        var error = Assert.Throws<NotSupportedException>(() => model.Run(NoGrad(), Ramp([3, 3], 0.5f)));
        Assert.Contains("diagonal", error.Message);
    }

    /// <summary>
    /// An explicit equation (letters only) evaluated by its definition: for every value of every index, the product of
    /// the operands added to the output element (an axis of size 1 broadcasts). Returns the values and the output shape.
    /// </summary>
    private static (double[] Values, int[] Dims) DirectSum(string equation, Tensor[] operands)
    {
        var sides = equation.Split("->");
        var terms = sides[0].Split(',');
        var sizes = new Dictionary<char, int>();
        for (int t = 0; t < terms.Length; t++)
            for (int a = 0; a < terms[t].Length; a++)
                sizes[terms[t][a]] = Math.Max(sizes.GetValueOrDefault(terms[t][a], 1), operands[t].Shape[a]);
        var labels = sizes.Keys.ToArray();
        var outputDims = sides[1].Select(l => sizes[l]).ToArray();
        var values = new double[outputDims.Aggregate(1, (p, d) => p * d)];
        var data = operands.Select(o => o.ToArray()).ToArray();
        var index = new Dictionary<char, int>();
        int total = labels.Aggregate(1, (p, l) => p * sizes[l]);
        for (int flat = 0; flat < total; flat++)
        {
            for (int r = flat, a = labels.Length - 1; a >= 0; a--)
            {
                index[labels[a]] = r % sizes[labels[a]];
                r /= sizes[labels[a]];
            }
            double product = 1;
            for (int t = 0; t < terms.Length; t++)
            {
                int offset = 0;
                for (int a = 0; a < terms[t].Length; a++)
                    offset = offset * operands[t].Shape[a] + (operands[t].Shape[a] == 1 ? 0 : index[terms[t][a]]);
                product *= data[t][offset];
            }
            int target = 0;
            for (int a = 0; a < sides[1].Length; a++) target = target * outputDims[a] + index[sides[1][a]];
            values[target] += product;
        }
        return (values, outputDims);
    }

    private static Dictionary<string, OnnxValue> Inputs(string[] names, Tensor[] values) =>
        names.Zip(values).ToDictionary(p => p.First, p => OnnxValue.FromTensor(p.Second));

    private static Tape NoGrad() => new(new NaiveKernels()) { GradEnabled = false };

    private static Tensor Ramp(int[] dims, float step)
    {
        var size = new Shape(dims).Size;
        return Tensor.FromArray(Enumerable.Range(0, size).Select(i => MathF.Cos(i * step) + 0.05f * i).ToArray(), dims);
    }
}
