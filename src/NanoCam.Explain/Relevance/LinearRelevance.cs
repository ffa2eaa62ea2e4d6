using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Explain.Relevance;

/// <summary>
/// The rules of the linear layers z_k = Σ_j a_j w_jk + b_k (a convolution, or a MatMul with the bias added after it), as the
/// gradient × input identity of Montavon et al. 2019 (Sec. 10.2.3): with ρ(w) the rule's weights and
/// s_k = R_k / (ρ(z)_k + ε_k), R_j = a_j · Σ_k ρ(w_jk) s_k = a_j · (backward of ρ's layer applied to s)_j.
/// LRP-0: ρ(w) = w, ε = 0 (eq. 10.1); LRP-ε: ε_k = ε·RMS(z) · sign(z_k) (eq. 10.2); LRP-γ: ρ(w) = w + γw⁺ and
/// ρ(b) = b + γb⁺ (eq. 10.3); z^B: R_j = Σ_k (a_j w_jk − l_j w⁺_jk − h_j w⁻_jk) / Σ_j(…) · R_k, no bias (Montavon et al.
/// 2017, Table 1). A batch norm after the convolution is folded into it first: w′ = γ/σ · w, b′ = γ/σ · (b − μ) + β.
/// The convolutions run on the backend; the stabilizer and the division run on the host.
/// </summary>
internal static class LinearRelevance
{
    /// <summary>Moves the relevance at <paramref name="node"/>'s output (that of <paramref name="affine"/>, folded in) to its input.</summary>
    public static void Propagate(Node node, Node? affine, LrpRule rule, bool bounded, LrpSettings settings, IKernels kernels)
    {
        var layer = Layer.Of(node, affine);
        if (LrpPass.RelevanceOf(layer.Input) is null) return;
        var relevance = node.Output.Grad!.ToArray();
        var x = layer.Input.ToArray();
        if (bounded)
        {
            var (low, high) = Bounds(layer.Input.Shape, x, settings);
            var positive = layer.Weight.Select(w => MathF.Max(w, 0f)).ToArray();
            var negative = layer.Weight.Select(w => MathF.Min(w, 0f)).ToArray();
            var (w, wPlus, wMinus) = (layer.Stage(kernels, layer.Weight), layer.Stage(kernels, positive), layer.Stage(kernels, negative));
            var (lowTensor, highTensor) = (Stage(kernels, low, layer.Input.Shape), Stage(kernels, high, layer.Input.Shape));
            var z = layer.Forward(kernels, layer.Input, w).ToArray();
            var zLow = layer.Forward(kernels, lowTensor, wPlus).ToArray();
            var zHigh = layer.Forward(kernels, highTensor, wMinus).ToArray();
            for (int i = 0; i < z.Length; i++) z[i] -= zLow[i] + zHigh[i];
            var s = Stage(kernels, Ratio(relevance, z), node.Output.Shape);
            var c = layer.BackwardInput(kernels, s, w).ToArray();
            var cLow = layer.BackwardInput(kernels, s, wPlus).ToArray();
            var cHigh = layer.BackwardInput(kernels, s, wMinus).ToArray();
            for (int i = 0; i < c.Length; i++) c[i] = x[i] * c[i] - low[i] * cLow[i] - high[i] * cHigh[i];
            AddTo(kernels, layer.Input, c);
            return;
        }
        float gamma = rule == LrpRule.Gamma ? settings.Gamma : 0f;
        var weights = Rho(layer.Weight, gamma);
        var bias = layer.Bias is null ? null : Rho(layer.Bias, gamma);
        var rhoW = layer.Stage(kernels, weights);
        var zRho = layer.Forward(kernels, layer.Input, rhoW).ToArray();
        if (bias is not null) for (int i = 0; i < zRho.Length; i++) zRho[i] += bias[layer.FeatureOf(i)];
        if (rule == LrpRule.Epsilon) Stabilize(zRho, node.Output.Shape[0], settings.Epsilon);
        var ratio = Stage(kernels, Ratio(relevance, zRho), node.Output.Shape);
        var back = layer.BackwardInput(kernels, ratio, rhoW).ToArray();
        for (int i = 0; i < back.Length; i++) back[i] *= x[i];
        AddTo(kernels, layer.Input, back);
    }

    /// <summary>ρ(v) = v + γ·max(v, 0) (the identity for γ = 0).</summary>
    private static float[] Rho(float[] values, float gamma) => gamma == 0f ? values : values.Select(v => v + gamma * MathF.Max(v, 0f)).ToArray();

    /// <summary>z_k ← z_k + ε·RMS(z)·sign(z_k) per image (sign(0) = +1), the ε of LRP-ε relative to the layer's scale.</summary>
    private static void Stabilize(float[] z, int images, float epsilon)
    {
        int size = z.Length / images;
        for (int n = 0; n < images; n++)
        {
            var image = z.AsSpan(n * size, size);
            double squares = 0;
            foreach (var v in image) squares += (double)v * v;
            float shift = epsilon * (float)Math.Sqrt(squares / Math.Max(1, size));
            for (int i = 0; i < image.Length; i++) image[i] += image[i] >= 0 ? shift : -shift;
        }
    }

    /// <summary>R / z element by element, 0 where z = 0 (no contribution there, nothing to share).</summary>
    internal static float[] Ratio(float[] relevance, float[] z)
    {
        var s = new float[z.Length];
        for (int i = 0; i < s.Length; i++) s[i] = z[i] == 0f ? 0f : relevance[i] / z[i];
        return s;
    }

    /// <summary>
    /// z^B's bounds l and h for every input value: the given bounds per channel (the model's black and white pixel), else
    /// each image's own minimum and maximum per channel (a flat input is one channel); widened to hold every value.
    /// </summary>
    private static (float[] Low, float[] High) Bounds(Shape shape, float[] x, LrpSettings settings)
    {
        int images = shape[0], channels = shape.Rank == 4 ? shape[1] : 1, plane = x.Length / (images * channels);
        var (low, high) = (new float[x.Length], new float[x.Length]);
        bool given = settings.Low is { } l && settings.High is { } h && l.Length == channels && h.Length == channels;
        for (int n = 0; n < images; n++)
            for (int c = 0; c < channels; c++)
            {
                var values = x.AsSpan((n * channels + c) * plane, plane);
                float lo, hi;
                if (given) (lo, hi) = (MathF.Min(settings.Low![c], settings.High![c]), MathF.Max(settings.Low[c], settings.High[c]));
                else (lo, hi) = (float.MaxValue, float.MinValue);
                // The bounds hold every value: l ≤ x ≤ h is what makes z^B's contributions a_j w − l w⁺ − h w⁻ non-negative.
                foreach (var v in values) { lo = MathF.Min(lo, v); hi = MathF.Max(hi, v); }
                low.AsSpan((n * channels + c) * plane, plane).Fill(lo);
                high.AsSpan((n * channels + c) * plane, plane).Fill(hi);
            }
        return (low, high);
    }

    internal static Tensor Stage(IKernels kernels, float[] values, Shape shape)
    {
        var tensor = kernels.Allocate(shape);
        tensor.Buffer.CopyFrom(values);
        return tensor;
    }

    /// <summary>Adds <paramref name="values"/> to the relevance of <paramref name="target"/>.</summary>
    internal static void AddTo(IKernels kernels, Tensor target, float[] values)
    {
        if (LrpPass.RelevanceOf(target) is { } relevance) kernels.AddScaled(relevance, Stage(kernels, values, target.Shape), 1f);
    }

    /// <summary>
    /// One linear layer: its input, its weights and bias (a following batch norm folded in), and its forward map and the
    /// transpose of that map (the input's backward) with other weights of the same shape.
    /// </summary>
    private abstract class Layer
    {
        public required Tensor Input { get; init; }
        public required float[] Weight { get; init; }
        public required Shape WeightShape { get; init; }
        /// <summary>Per output feature, or null.</summary>
        public float[]? Bias { get; init; }

        public Tensor Stage(IKernels kernels, float[] weight) => LinearRelevance.Stage(kernels, weight, WeightShape);

        /// <summary>The layer's map of <paramref name="x"/> with weights <paramref name="weight"/>, no bias.</summary>
        public abstract Tensor Forward(IKernels kernels, Tensor x, Tensor weight);

        /// <summary>Σ_k w_jk s_k for every input j: the input gradient of the map for output gradient s.</summary>
        public abstract Tensor BackwardInput(IKernels kernels, Tensor s, Tensor weight);

        /// <summary>The output feature (bias index) of output element <paramref name="index"/>.</summary>
        public abstract int FeatureOf(int index);

        public static Layer Of(Node node, Node? affine) => node switch
        {
            Conv2dNode conv => ConvLayer.Of(conv, affine as BatchNormNode),
            MatMulNode matMul => DenseLayer.Of(matMul, affine as BinaryNode),
            _ => throw new NotSupportedException($"lrp: no relevance rule for the operation '{node.Kind}' as recorded here ({node.GetType().Name})"),
        };
    }

    private sealed class ConvLayer : Layer
    {
        public required Conv2dGeometry Geometry { get; init; }
        public required Shape OutputShape { get; init; }

        public static ConvLayer Of(Conv2dNode conv, BatchNormNode? norm)
        {
            var weight = conv.Weight.ToArray();
            int channels = conv.Weight.Shape[0], block = weight.Length / channels;
            var bias = conv.Bias?.ToArray();
            if (norm is not null)
            {
                // Folding y = γ·(conv(x) − μ)·InvStd + β: w′_k = γ_k·InvStd_k·w_k, b′_k = γ_k·InvStd_k·(b_k − μ_k) + β_k.
                var (g, invStd, mean, beta) = (norm.Gamma.ToArray(), norm.InvStd.ToArray(), norm.Mean.ToArray(), norm.Beta.ToArray());
                var folded = new float[channels];
                for (int k = 0; k < channels; k++)
                {
                    float scale = g[k] * invStd[k];
                    for (int i = 0; i < block; i++) weight[k * block + i] *= scale;
                    folded[k] = scale * ((bias?[k] ?? 0f) - mean[k]) + beta[k];
                }
                bias = folded;
            }
            return new ConvLayer { Input = conv.Input, Weight = weight, WeightShape = conv.Weight.Shape, Bias = bias, Geometry = conv.Geometry, OutputShape = conv.Output.Shape };
        }

        public override Tensor Forward(IKernels kernels, Tensor x, Tensor weight)
        {
            var z = kernels.Allocate(OutputShape);
            kernels.Conv2dForward(z, x, weight, null, Geometry);
            return z;
        }

        public override Tensor BackwardInput(IKernels kernels, Tensor s, Tensor weight)
        {
            var c = kernels.Allocate(Input.Shape);
            kernels.Conv2dBackwardInput(c, s, weight, Geometry, accumulate: false);
            return c;
        }

        public override int FeatureOf(int index) => index / (OutputShape[2] * OutputShape[3]) % OutputShape[1];
    }

    private sealed class DenseLayer : Layer
    {
        public required GemmShape Gemm { get; init; }
        public required Shape OutputShape { get; init; }

        public static DenseLayer Of(MatMulNode matMul, BinaryNode? bias)
        {
            if (!LrpPass.Receives(matMul.A) || LrpPass.Receives(matMul.B))
                throw new NotSupportedException("lrp: no relevance rule for a MatMul whose second operand is an activation (only activations × weights)");
            return new DenseLayer
            {
                Input = matMul.A, Weight = matMul.B.ToArray(), WeightShape = matMul.B.Shape, Gemm = matMul.Shape,
                OutputShape = matMul.Output.Shape,
                Bias = bias is null ? null : LrpPass.BiasOf(bias)!.Value.Bias.ToArray(),
            };
        }

        public override Tensor Forward(IKernels kernels, Tensor x, Tensor weight)
        {
            var z = kernels.Allocate(OutputShape);
            kernels.Gemm(z, x, weight, Gemm with { Beta = 0f });
            return z;
        }

        public override Tensor BackwardInput(IKernels kernels, Tensor s, Tensor weight)
        {
            // As MatMulNode.Backward's ∂L/∂A: dA = α·dC·op(B)ᵀ (or its transpose when A is stored transposed), per batch.
            var g = Gemm;
            var c = kernels.Allocate(Input.Shape);
            for (int i = 0; i < g.Batch; i++)
            {
                int offA = i * g.BatchStrideA, offB = i * g.BatchStrideB, offC = i * g.BatchStrideC;
                if (g.TransposeA) kernels.Gemm(c, weight, s, new GemmShape(g.K, g.M, g.N, g.TransposeB, true, g.Alpha, 1f, OffsetA: offB, OffsetB: offC, OffsetC: offA));
                else kernels.Gemm(c, s, weight, new GemmShape(g.M, g.K, g.N, false, !g.TransposeB, g.Alpha, 1f, OffsetA: offC, OffsetB: offB, OffsetC: offA));
            }
            return c;
        }

        public override int FeatureOf(int index) => index % OutputShape[OutputShape.Rank - 1];
    }
}
