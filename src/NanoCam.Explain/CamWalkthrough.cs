using NanoCam.Explain.Methods;
using NanoCam.Nn.Models;
using NanoCam.Nn.Training;

namespace NanoCam.Explain;

/// <summary>
/// The CAM / Grad-CAM walk-through of one image in one call: the activations A^k, the channel weights (w_k^c or
/// α_k^c), the weighted sum before and after ReLU, the upsampled and normalized maps (all read from the
/// <see cref="CamResult"/> the explainer keeps), and — when the layer feeds a GAP → linear head — CAM and Grad-CAM
/// side by side and the class score rebuilt from the pooled maps.
/// </summary>
public static class CamWalkthrough
{
    /// <summary>The methods a walk-through explains: the two whose weights have a closed form on the page.</summary>
    public static IReadOnlyList<string> Methods { get; } = ["cam", "gradcam"];

    /// <summary>
    /// Explains the single image <paramref name="image"/> [1, C, H, W] with <paramref name="method"/> ("cam" or
    /// "gradcam") for <paramref name="target"/> (default: the top prediction) at <paramref name="layer"/> (default: the
    /// CAM head's feature layer when the model has one, else the model's default layer).
    /// </summary>
    public static WalkthroughResult Run(CamExplainer explainer, Tensor image, string method = "cam", CamTarget? target = null, string? layer = null)
    {
        CheckMethod(explainer.Model, method);
        if (image.Shape.Rank != 4 || image.Shape[0] != 1) throw new ArgumentException($"walkthrough: explains one image [1, C, H, W], got {image.Shape}");
        var head = explainer.Model.CamHead;
        layer ??= head?.FeatureLayer ?? explainer.Model.DefaultLayer;
        var result = explainer.Explain(CamMethods.Create(method), image, target ?? CamTarget.TopPrediction(), layer);
        var warnings = explainer.Warnings.ToList();
        var capture = result.Capture;
        var sameClass = CamTarget.Class(capture.TargetClasses[0]);
        // An Attention Branch Network's own map M(x), the same for every class (no gradient, one more forward pass).
        var attention = explainer.Model is ModuleExplainable { Model: AttentionBranchNetwork }
            ? explainer.Explain(new AbnAttention(), image, sameClass, AttentionBranchNetwork.AttentionMapLayer)
            : null;
        if (head is null || head.FeatureLayer != layer || head.Channels != capture.Channels)
            return new WalkthroughResult(method, result, null, null, null, warnings)
            {
                Attention = attention, FosteringEntropy = FosteringEntropyOf(result.WeightedSumOf(0)),
            };

        // The other method of the pair, for the same class: CAM needs no gradient, Grad-CAM one backward pass.
        var other = explainer.Explain(CamMethods.Create(method == "cam" ? "gradcam" : "cam"), image, sameClass, layer);
        var (cam, gradCam) = method == "cam" ? (result, other) : (other, result);
        return new WalkthroughResult(method, result, head, Decompose(capture, head), Compare(cam, gradCam), warnings)
        {
            // Fostering penalises the CAM map's entropy (on a GAP head Grad-CAM's is the same map times 1/Z).
            Attention = attention, FosteringEntropy = FosteringEntropyOf(cam.WeightedSumOf(0)),
        };
    }

    /// <summary>
    /// CAM fostering's term for one map (Schöttl 2020; docs/cam-math.md §20): H = −Σ_xy p log(p + ε) with
    /// p = ReLU(M) / (Σ_xy ReLU(M) + ε), the per-image quantity <see cref="CamFostering.MeanEntropy"/> averages on the tape
    /// (same ε). In nats: 0 for a map on one position, log Z for a flat one.
    /// </summary>
    public static double FosteringEntropyOf(ReadOnlySpan<float> weightedSum)
    {
        double mass = 0;
        foreach (var v in weightedSum) mass += Math.Max(v, 0f);
        double denominator = mass + CamFostering.Epsilon, entropy = 0;
        foreach (var v in weightedSum)
        {
            double p = Math.Max(v, 0f) / denominator;
            entropy -= p * Math.Log(p + CamFostering.Epsilon);
        }
        return entropy;
    }

    /// <summary>
    /// Refuses, before any pass is run, a method other than cam and gradcam, and CAM on a model without a
    /// GAP → linear head (CAM reads its weights from that head).
    /// </summary>
    public static void CheckMethod(IExplainable model, string method)
    {
        if (!Methods.Contains(method)) throw new ArgumentException($"walkthrough: method must be cam or gradcam, got '{method}'");
        if (method == "cam" && model.CamHead is null)
            throw new InvalidOperationException("cam: this network has no global-average-pooling + linear classifier head; use --method gradcam");
    }

    /// <summary>
    /// y^c = Σ_k w_k^c F^k + b_c with F^k = (1/Z) Σ_ij A^k_ij (CAM paper, eq. 1–2): the pooled features, each
    /// channel's contribution w_k^c·F^k, their sum, the bias, and the network's own y^c beside the recomputed one.
    /// </summary>
    public static ScoreDecomposition Decompose(LayerCapture capture, CamHead head)
    {
        int c = capture.TargetClasses[0], k = capture.Channels;
        var pooled = new float[k];
        var weights = new float[k];
        var contributions = new float[k];
        double sum = 0;
        for (int channel = 0; channel < k; channel++)
        {
            double total = 0;
            foreach (var a in capture.ActivationPlane(0, channel)) total += a;
            pooled[channel] = (float)(total / capture.Plane); // F^k = (1/Z) Σ_ij A^k_ij
            weights[channel] = head.Weight(c, channel);
            contributions[channel] = weights[channel] * pooled[channel];
            sum += (double)weights[channel] * pooled[channel];
        }
        float bias = head.Bias?[c] ?? 0f;
        return new ScoreDecomposition(c, pooled, weights, contributions, (float)sum, bias, (float)(sum + bias), capture.TargetScore(0));
    }

    /// <summary>
    /// How Grad-CAM relates to CAM at the same layer: on a GAP → linear head ∂y^c/∂A^k_ij = w_k^c / Z, so
    /// α_k^c = w_k^c / Z and the Grad-CAM map is the CAM map times 1/Z. Measures that ratio on the maps and per channel.
    /// </summary>
    public static CamGradCamComparison Compare(CamResult cam, CamResult gradCam)
    {
        int z = cam.Capture.Plane;
        // Least-squares slope of the Grad-CAM weighted sum against the CAM weighted sum (both before ReLU).
        double dot = 0, norm = 0;
        var camSum = cam.WeightedSumOf(0);
        var gradSum = gradCam.WeightedSumOf(0);
        for (int p = 0; p < camSum.Length; p++) { dot += (double)gradSum[p] * camSum[p]; norm += (double)camSum[p] * camSum[p]; }
        var w = cam.ChannelWeightsOf(0);
        var alpha = gradCam.ChannelWeightsOf(0);
        float largest = 0f;
        foreach (var v in w) largest = MathF.Max(largest, MathF.Abs(v));
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int k = 0; k < w.Length; k++)
        {
            if (MathF.Abs(w[k]) <= 1e-3f * largest) continue; // a near-zero weight gives a meaningless ratio
            double ratio = (double)alpha[k] / w[k];
            min = Math.Min(min, ratio);
            max = Math.Max(max, ratio);
        }
        return new CamGradCamComparison(cam, gradCam, z, 1.0 / z, norm > 0 ? dot / norm : double.NaN, min, max);
    }
}

/// <summary>Every quantity of one CAM or Grad-CAM explanation of one image, in the order of the math.</summary>
/// <param name="Method">"cam" or "gradcam".</param>
/// <param name="Result">The explainer's result: capture, weights, weighted sum, ReLU map, upsampled and normalized maps.</param>
/// <param name="Head">The GAP → linear head at this layer, or null when the layer does not feed one.</param>
/// <param name="Score">y^c rebuilt from the pooled maps (null without a head at this layer).</param>
/// <param name="Comparison">CAM and Grad-CAM side by side (null without a head at this layer).</param>
/// <param name="Warnings">The explainer's warnings (a flat map, …).</param>
public sealed record WalkthroughResult(string Method, CamResult Result, CamHead? Head, ScoreDecomposition? Score,
    CamGradCamComparison? Comparison, IReadOnlyList<string> Warnings)
{
    public LayerCapture Capture => Result.Capture;

    /// <summary>An Attention Branch Network's attention map M(x) (its <see cref="AbnAttention"/> result); null for other networks.</summary>
    public CamResult? Attention { get; init; }

    /// <summary>CAM fostering's entropy term H of this class's CAM map (the method's own map without a GAP head); see <see cref="CamWalkthrough.FosteringEntropyOf"/>.</summary>
    public double FosteringEntropy { get; init; }

    public string Layer => Capture.Layer;

    /// <summary>The class c explained.</summary>
    public int Class => Capture.TargetClasses[0];

    /// <summary>The network's own score y^c (pre-softmax).</summary>
    public float NetworkScore => Capture.TargetScore(0);

    /// <summary>Channels K at the layer.</summary>
    public int Channels => Capture.Channels;

    /// <summary>h, w: the layer's resolution.</summary>
    public int Height => Capture.Height;

    public int Width => Capture.Width;

    /// <summary>Z = h·w, the number of positions each channel is averaged over.</summary>
    public int Z => Capture.Plane;

    /// <summary>A^k [h, w].</summary>
    public ReadOnlySpan<float> Activation(int k) => Capture.ActivationPlane(0, k);

    /// <summary>∂y^c/∂A^k [h, w] (Grad-CAM only; CAM runs no backward pass).</summary>
    public ReadOnlySpan<float> Gradient(int k) => Capture.GradientPlane(0, k);

    /// <summary>The channel weights [K]: w_k^c for CAM, α_k^c for Grad-CAM.</summary>
    public ReadOnlySpan<float> Weights => Result.ChannelWeightsOf(0);

    /// <summary>Σ_k weight_k·A^k before ReLU [h, w].</summary>
    public ReadOnlySpan<float> WeightedSum => Result.WeightedSumOf(0);

    /// <summary>ReLU(Σ_k weight_k·A^k) [h, w]: the raw map.</summary>
    public ReadOnlySpan<float> Map => Result.MapOf(0);

    /// <summary>The raw map bilinearly upsampled to the input [H, W].</summary>
    public ReadOnlySpan<float> Upsampled => Result.UpsampledOf(0);

    /// <summary>The upsampled map min–max scaled to [0, 1] [H, W].</summary>
    public ReadOnlySpan<float> Normalized => Result.NormalizedOf(0);

    /// <summary>The channel indices sorted by weight, largest first (ties by index).</summary>
    public int[] ChannelsByWeight()
    {
        var weights = Weights.ToArray();
        var order = Enumerable.Range(0, weights.Length).ToArray();
        Array.Sort(order, (a, b) => weights[b].CompareTo(weights[a]) is var byWeight and not 0 ? byWeight : a.CompareTo(b));
        return order;
    }
}

/// <summary>
/// The class score rebuilt from the maps: y^c = Σ_k w_k^c F^k + b_c with F^k the global average of A^k.
/// </summary>
/// <param name="Class">c.</param>
/// <param name="PooledFeatures">F^k = (1/Z) Σ_ij A^k_ij [K].</param>
/// <param name="ClassWeights">w_k^c [K].</param>
/// <param name="Contributions">w_k^c·F^k [K].</param>
/// <param name="WeightedSum">Σ_k w_k^c·F^k.</param>
/// <param name="Bias">b_c (0 when the head has none).</param>
/// <param name="Recomputed">Σ_k w_k^c·F^k + b_c.</param>
/// <param name="NetworkScore">y^c as the network computed it.</param>
public sealed record ScoreDecomposition(int Class, float[] PooledFeatures, float[] ClassWeights, float[] Contributions,
    float WeightedSum, float Bias, float Recomputed, float NetworkScore)
{
    /// <summary>|recomputed − network| / max(|network|, 1e-12).</summary>
    public double RelativeError => Math.Abs((double)Recomputed - NetworkScore) / Math.Max(Math.Abs((double)NetworkScore), 1e-12);
}

/// <summary>CAM and Grad-CAM of the same class at the same layer, and the measured ratio between them.</summary>
/// <param name="Z">h·w.</param>
/// <param name="ExpectedRatio">1/Z: Grad-CAM / CAM on a GAP → linear head.</param>
/// <param name="MapRatio">Least-squares slope of the Grad-CAM weighted sum against the CAM one (NaN for a zero CAM map).</param>
/// <param name="MinChannelRatio">Smallest α_k^c / w_k^c over channels whose weight is not near zero.</param>
/// <param name="MaxChannelRatio">Largest α_k^c / w_k^c over the same channels.</param>
public sealed record CamGradCamComparison(CamResult Cam, CamResult GradCam, int Z, double ExpectedRatio, double MapRatio,
    double MinChannelRatio, double MaxChannelRatio);
