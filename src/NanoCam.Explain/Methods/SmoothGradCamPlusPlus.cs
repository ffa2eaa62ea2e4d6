namespace NanoCam.Explain.Methods;

/// <summary>
/// Smooth Grad-CAM++ (Omeiza et al. 2019): the gradient statistics of Grad-CAM++ averaged over
/// <see cref="Samples"/> noisy copies x + ε_s, ε_s ~ N(0, σ²) (SmoothGrad), with D¹ = (1/S) Σ_s ∂S^c/∂A (x + ε_s),
/// D² = (1/S) Σ_s (∂S^c/∂A)², D³ = (1/S) Σ_s (∂S^c/∂A)³ (eq. 8–10), then
/// α_ij^kc = D²_ij / (2 D²_ij + Σ_ab A^k_ab D³_ij) and w_k^c = Σ_ij α_ij^kc ReLU(D¹_ij), with A^k of the clean image.
/// The noise of sample s is drawn from <c>new Random(Seed + s)</c>, image after image, value after value.
/// Checked against the paper: D¹, D² and D³ are each averaged over the samples (eq. 8–10: the mean of the squares and
/// of the cubes, not the square and cube of the mean), as torch-cam's SmoothGradCAMpp also does; A^k is the clean
/// image's, as in torch-cam (the paper's equations leave it unsampled). α has no ε in its denominator (the paper's
/// eq. 19; pytorch-grad-cam, whose ε <see cref="GradCamPlusPlus"/> takes by default, has no Smooth Grad-CAM++).
/// </summary>
public sealed class SmoothGradCamPlusPlus(int samples = 8, float sigma = 0.2f, int seed = 0) : CamMethod
{
    public override string Name => "smoothgradcam++";

    /// <summary>Number of noisy copies S.</summary>
    public int Samples { get; } = samples >= 1 ? samples : throw new ArgumentOutOfRangeException(nameof(samples), samples, "at least one sample");

    /// <summary>Standard deviation σ of the Gaussian noise, in input units.</summary>
    public float Sigma { get; } = sigma;

    public int Seed { get; } = seed;

    public override void ChannelWeights(CamContext context, Span<float> weights)
    {
        var c = context.Capture;
        int size = c.Batch * c.Channels * c.Plane;
        var mean = new float[size];
        var squares = new float[size];
        var cubes = new float[size];
        // The classes of the clean pass, so that noise cannot change which class is explained.
        var target = new ImageClassTarget(c.TargetClasses);
        for (int s = 0; s < Samples; s++)
        {
            var noisy = (float[])context.HostInput.Clone();
            MapOps.AddGaussianNoise(new Random(Seed + s), noisy, Sigma);
            var tensor = context.Explainer.Kernels.Allocate(context.Input.Shape);
            tensor.Buffer.CopyFrom(noisy);
            var gradients = context.Explainer.Capture(tensor, c.Layer, target, withGradients: true).Gradients!;
            for (int i = 0; i < size; i++)
            {
                float g = gradients[i];
                mean[i] += g / Samples;
                squares[i] += g * g / Samples;
                cubes[i] += g * g * g / Samples;
            }
        }
        for (int n = 0; n < c.Batch; n++)
            for (int k = 0; k < c.Channels; k++)
            {
                int offset = (n * c.Channels + k) * c.Plane;
                weights[n * c.Channels + k] = GradCamPlusPlus.Weight(c.ActivationPlane(n, k),
                    mean.AsSpan(offset, c.Plane), squares.AsSpan(offset, c.Plane), cubes.AsSpan(offset, c.Plane), epsilon: 0f);
            }
    }
}
