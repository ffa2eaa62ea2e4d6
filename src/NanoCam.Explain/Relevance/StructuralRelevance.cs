using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Explain.Relevance;

/// <summary>
/// The rules of the operations that are not a learned linear layer, each the LRP-0 rule of the operation seen as a linear
/// map without bias, R_i = x_i · (∂z/∂x)ᵀ (R / z) — which shares R_k among the inputs in proportion to their contributions
/// z_ik / z_k and so conserves Σ R exactly: average pooling and GAP (x_i / (k·z)), a residual addition
/// (R_a = a/(a + b)·R, R_b = b/(a + b)·R). A bias added alone keeps its share b/z·R; a batch norm that follows no
/// convolution is the affine map y = s·x + t with R_x = s·x/y·R.
/// </summary>
internal static class StructuralRelevance
{
    /// <summary>Average pooling and global average pooling: R_i = x_i · Σ_k (1/|window_k|) · R_k / z_k.</summary>
    public static void Pooling(Node node, IKernels kernels)
    {
        var input = node.Inputs[0];
        if (LrpPass.RelevanceOf(input) is null) return;
        var s = LinearRelevance.Stage(kernels, LinearRelevance.Ratio(node.Output.Grad!.ToArray(), node.Output.ToArray()), node.Output.Shape);
        var back = kernels.Allocate(input.Shape);
        switch (node)
        {
            case GlobalAvgPoolNode:
                kernels.GlobalAvgPoolBackward(back, s, accumulate: false);
                break;
            case AvgPool2dNode pool:
                kernels.AvgPool2dBackward(back, s, pool.Geometry, pool.CountIncludePad);
                break;
            default:
                throw new NotSupportedException($"lrp: no relevance rule for the operation '{node.Kind}'");
        }
        LinearRelevance.AddTo(kernels, input, Product(input.ToArray(), back.ToArray()));
    }

    /// <summary>
    /// a + b: two activations of one shape share R in proportion, R_a = a·R/z and R_b = b·R/z; an activation plus a constant
    /// (a bias not folded into a layer) gives the activation its share x·R/z and the constant keeps the rest.
    /// </summary>
    public static void Add(BinaryNode add, IKernels kernels)
    {
        var s = LinearRelevance.Ratio(add.Output.Grad!.ToArray(), add.Output.ToArray());
        var operands = LrpPass.BiasOf(add) is var (activation, _) ? [activation] : new[] { add.A, add.B };
        foreach (var operand in operands)
            if (operand.Size != add.Output.Size)
                throw new NotSupportedException($"lrp: no relevance rule for an addition that broadcasts an activation ({add.A.Shape} + {add.B.Shape})");
        foreach (var operand in operands) LinearRelevance.AddTo(kernels, operand, Product(operand.ToArray(), s));
    }

    /// <summary>A batch norm on its own, y = s·x + t per channel (s = γ·InvStd): R_x = s·x·R/y.</summary>
    public static void BatchNorm(BatchNormNode norm, IKernels kernels)
    {
        var input = norm.Input;
        if (LrpPass.RelevanceOf(input) is null) return;
        var s = LinearRelevance.Ratio(norm.Output.Grad!.ToArray(), norm.Output.ToArray());
        var (gamma, invStd, x) = (norm.Gamma.ToArray(), norm.InvStd.ToArray(), input.ToArray());
        int channels = input.Shape[1], plane = input.Shape.Rank == 4 ? input.Shape[2] * input.Shape[3] : 1;
        for (int i = 0; i < s.Length; i++)
        {
            int c = i / plane % channels;
            s[i] *= gamma[c] * invStd[c] * x[i];
        }
        LinearRelevance.AddTo(kernels, input, s);
    }

    private static float[] Product(float[] a, float[] b)
    {
        var product = new float[a.Length];
        for (int i = 0; i < a.Length; i++) product[i] = a[i] * b[i];
        return product;
    }
}
