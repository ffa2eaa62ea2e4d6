using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Ops;
using static NanoCam.Onnx.Tests.TestGraphs;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// A Transpose that moves only axes of one element (a ViT's [1, 17, 32] → [17, 1, 32]) is a view of its input; any other
/// permutation, and any with fusing off, still gathers. Both against the element-by-element definition, and gradients flow through the view.
/// </summary>
public sealed class TransposeViewTests
{
    private static float[] Reference(Tensor x, int[] perm)
    {
        var dims = x.Shape.ToArray();
        var outDims = perm.Select(a => dims[a]).ToArray();
        var inStrides = new int[dims.Length];
        for (int a = dims.Length - 1, s = 1; a >= 0; s *= dims[a], a--) inStrides[a] = s;
        var values = x.ToArray();
        var y = new float[values.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int rest = i, offset = 0;
            for (int k = outDims.Length - 1; k >= 0; k--)
            {
                offset += rest % outDims[k] * inStrides[perm[k]];
                rest /= outDims[k];
            }
            y[i] = values[offset];
        }
        return y;
    }

    [Theory]
    [InlineData(new[] { 1, 17, 32 }, new[] { 1, 0, 2 }, true)]
    [InlineData(new[] { 17, 1, 32 }, new[] { 1, 0, 2 }, true)]
    [InlineData(new[] { 2, 1, 3, 1 }, new[] { 1, 0, 3, 2 }, true)]
    [InlineData(new[] { 2, 17, 16 }, new[] { 1, 0, 2 }, false)]
    [InlineData(new[] { 1, 32, 16 }, new[] { 0, 2, 1 }, false)]
    public void Transpose_IsAViewExactlyWhenOnlyUnitAxesMove(int[] dims, int[] perm, bool view)
    {
        var node = Node("Transpose", ["x"], ["y"], ("perm", perm));
        var model = SingleNode(node, 13);
        var rng = new Random(dims.Sum());
        var x = Tensor.FromArray([.. Enumerable.Range(0, dims.Aggregate(1, (p, d) => p * d)).Select(_ => (float)rng.NextDouble())], dims);
        foreach (IKernels kernels in new IKernels[] { NaiveKernels.Instance, new SimdKernels(1) })
        {
            var tape = new Tape(kernels) { GradEnabled = false };
            var y = model.Run(tape, x);
            Assert.Equal(perm.Select(a => dims[a]).ToArray(), y.Shape.ToArray());
            Assert.Equal(Reference(x, perm), y.ToArray());
            Assert.Equal(view, ReferenceEquals(y.Buffer, x.Buffer));
            Assert.Equal(view, !tape.Nodes.Any(n => n is RemapNode));
        }
        // With fusing off the plain gather runs whatever the permutation.
        model.Fuse = false;
        var plainTape = new Tape(new SimdKernels(1)) { GradEnabled = false };
        Assert.Equal(Reference(x, perm), model.Run(plainTape, x).ToArray());
        Assert.Contains(plainTape.Nodes, n => n is RemapNode);
        model.Fuse = true;
        // Gradients pass through the view (or the gather) back to x: ∂Σ(y·w)/∂x is w transposed back.
        var gradTape = new Tape(new SimdKernels(1));
        var input = Tensor.FromArray(x.ToArray(), dims);
        input.RequiresGrad = true;
        var output = model.Run(gradTape, input);
        var seed = Tensor.FromArray([.. Enumerable.Range(0, output.Size).Select(i => (float)i)], output.Shape.ToArray());
        gradTape.Backward(output, seed);
        var inverse = new int[perm.Length];
        for (int k = 0; k < perm.Length; k++) inverse[perm[k]] = k;
        Assert.Equal(Reference(seed, inverse), input.Grad!.ToArray());
    }
}
