namespace NanoCam.Explain.Methods;

/// <summary>
/// Base of the principal-component methods: the channel weights are v₁, the first principal component of the K
/// channel planes B^k (as an hw×K matrix, each column centred), and the map is the projection Σ_k v₁_k (B^k − mean B^k)
/// (see <see cref="MapOps.PrincipalProjection"/> for the sign). ReLU follows, as in pytorch-grad-cam.
/// </summary>
public abstract class PrincipalComponentCam : CamMethod
{
    /// <summary>Writes the K planes B^k of image n, [K, hw].</summary>
    protected abstract void Planes(LayerCapture capture, int n, Span<float> planes);

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        var planes = new float[c.Channels * c.Plane];
        var projection = new float[c.Plane];
        for (int n = 0; n < c.Batch; n++)
        {
            Planes(c, n, planes);
            MapOps.PrincipalProjection(planes, c.Channels, c.Plane, weights.Slice(n * c.Channels, c.Channels), projection);
        }
    }

    public override void Combine(CamContext context, int n, ReadOnlySpan<float> weights, Span<float> map)
    {
        var c = context.Capture;
        var planes = new float[c.Channels * c.Plane];
        Planes(c, n, planes);
        map.Clear();
        for (int k = 0; k < c.Channels; k++)
        {
            var plane = planes.AsSpan(k * c.Plane, c.Plane);
            float mean = 0f;
            foreach (var v in plane) mean += v;
            mean /= c.Plane;
            for (int p = 0; p < map.Length; p++) map[p] += weights[k] * (plane[p] - mean);
        }
    }
}

/// <summary>
/// Eigen-CAM (Muhammad &amp; Yeasin 2020, eq. 4–5): the projection of the activations A on their first principal
/// component, L = A·V₁ with A = UΣVᵀ. Class-agnostic: it needs neither the class nor a gradient.
/// </summary>
public sealed class EigenCam : PrincipalComponentCam
{
    public override string Name => "eigencam";
    public override bool UsesGradients => false;
    public override bool ReadsClassScore => false;

    protected override void Planes(LayerCapture capture, int n, Span<float> planes)
    {
        for (int k = 0; k < capture.Channels; k++) capture.ActivationPlane(n, k).CopyTo(planes.Slice(k * capture.Plane, capture.Plane));
    }
}

/// <summary>
/// Eigen-Grad-CAM (as pytorch-grad-cam's EigenGradCAM): Eigen-CAM on the class-specific products ∂y^c/∂A^k ⊙ A^k.
/// </summary>
public sealed class EigenGradCam : PrincipalComponentCam
{
    public override string Name => "eigengradcam";

    protected override void Planes(LayerCapture capture, int n, Span<float> planes)
    {
        for (int k = 0; k < capture.Channels; k++)
        {
            var a = capture.ActivationPlane(n, k);
            var g = capture.GradientPlane(n, k);
            var plane = planes.Slice(k * capture.Plane, capture.Plane);
            for (int p = 0; p < plane.Length; p++) plane[p] = g[p] * a[p];
        }
    }
}
