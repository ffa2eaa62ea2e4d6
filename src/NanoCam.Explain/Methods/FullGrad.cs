namespace NanoCam.Explain.Methods;

/// <summary>
/// FullGrad (Srinivas &amp; Fleuret 2019, eq. 7): S(x) = ψ(∇_x y^c ⊙ x) + Σ_l Σ_k ψ(∇_{b_l} y^c ⊙ b_l)_k, where ψ, applied
/// to each channel, is the absolute value, min–max scaling (v − min)/(max − min + 10⁻⁷) at the channel's own resolution,
/// then bilinear upsampling to the input — in that order, as pytorch-grad-cam's FullGrad (scale_cam_image).
/// For a layer Z_l = f(X) + b_l the bias-gradient of channel k at position ij is ∂y^c/∂Z_l[k, ij] · b_l[k]
/// (the bias is shared over positions, so its per-position contributions are these products).
/// The bias layers are those the model lists (<see cref="ISpatialBiases"/>): convolutions with a bias and batch
/// normalization, as pytorch-grad-cam takes them; biases of the final linear layer (not spatial) are left out. The map
/// lives at the input's resolution: the capture is the input (x, ∂y^c/∂x) with the bias layers' outputs as its
/// additional layers.
/// </summary>
public sealed class FullGrad : PerPositionCam
{
    public override string Name => "fullgrad";

    /// <summary>pytorch-grad-cam's ε in ψ's min–max scaling.</summary>
    public const float ScalingEpsilon = 1e-7f;

    protected override float Term(float activation, float gradient) => MathF.Abs(activation * gradient);

    public override LayerCapture Capture(CamExplainer explainer, Tensor input, string layer, CamTarget target)
    {
        var layers = BiasesOf(explainer.Model).Select(b => b.Layer).ToArray();
        return explainer.CaptureAtInput(input, target, layers);
    }

    private const string NoBiases = "needs the biases of the model's convolutions, and this model does not list them";

    public override string? WhyNotApplicable(IExplainable model, string layer) => model is ISpatialBiases ? null : NoBiases;

    private static IReadOnlyList<LayerBias> BiasesOf(IExplainable model) => model is ISpatialBiases biased ? biased.SpatialBiases
        : throw new NotSupportedException($"fullgrad: {NoBiases}");

    public override void Combine(CamContext context, int n, ReadOnlySpan<float> weights, Span<float> map)
    {
        var input = context.Capture;
        int height = input.Height, width = input.Width, plane = height * width;
        var contribution = new float[plane];
        var total = new float[plane];
        void Add(ReadOnlySpan<float> term, int termHeight, int termWidth)
        {
            // ψ: |·| was applied by the caller; scale to [0, 1] at the term's resolution, upsample, accumulate.
            var scaled = new float[term.Length];
            MapOps.MinMaxNormalize(term, scaled, ScalingEpsilon);
            MapOps.Upsample(scaled, termHeight, termWidth, contribution, height, width);
            for (int p = 0; p < plane; p++) total[p] += contribution[p];
        }

        var term = new float[plane];
        for (int c = 0; c < input.Channels; c++)
        {
            // ψ(∇_x y^c ⊙ x), channel c
            var x = input.ActivationPlane(n, c);
            var g = input.GradientPlane(n, c);
            for (int p = 0; p < plane; p++) term[p] = Term(x[p], g[p]);
            Add(term, height, width);
        }
        var biases = BiasesOf(context.Model).ToDictionary(b => b.Layer, b => b.Bias);
        foreach (var layer in input.Additional)
        {
            // ψ(∂y^c/∂Z_l ⊙ b_l), channel k
            var bias = biases[layer.Layer];
            var layerTerm = new float[layer.Plane];
            for (int k = 0; k < layer.Channels; k++)
            {
                var g = layer.GradientPlane(n, k);
                for (int p = 0; p < layer.Plane; p++) layerTerm[p] = Term(bias[k], g[p]);
                Add(layerTerm, layer.Height, layer.Width);
            }
        }
        total.CopyTo(map);
    }
}
