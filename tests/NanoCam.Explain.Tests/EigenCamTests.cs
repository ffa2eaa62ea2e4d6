using NanoCam.Explain.Methods;

namespace NanoCam.Explain.Tests;

public class EigenCamTests
{
    /// <summary>Checks that v is a unit top eigenvector of XᵀX (X = centred planes, hw×K) and map = X·v, oriented with Σ_k B^k.</summary>
    private static void AssertFirstPrincipalComponent(float[] planes, int channels, int plane, ReadOnlySpan<float> v, ReadOnlySpan<float> map)
    {
        var x = new double[channels, plane];
        for (int k = 0; k < channels; k++)
        {
            double mean = 0;
            for (int p = 0; p < plane; p++) mean += planes[k * plane + p];
            mean /= plane;
            for (int p = 0; p < plane; p++) x[k, p] = planes[k * plane + p] - mean;
        }
        var covariance = new double[channels, channels];
        for (int i = 0; i < channels; i++)
            for (int j = 0; j < channels; j++)
                for (int p = 0; p < plane; p++) covariance[i, j] += x[i, p] * x[j, p];
        double norm = 0, lambda = 0;
        for (int i = 0; i < channels; i++) norm += v[i] * v[i];
        Assert.Equal(1.0, norm, 4);
        var cv = new double[channels];
        for (int i = 0; i < channels; i++) for (int j = 0; j < channels; j++) cv[i] += covariance[i, j] * v[j];
        for (int i = 0; i < channels; i++) lambda += v[i] * cv[i];
        double scale = 0;
        for (int i = 0; i < channels; i++) scale = Math.Max(scale, Math.Abs(covariance[i, i]));
        for (int i = 0; i < channels; i++) Assert.True(Math.Abs(cv[i] - lambda * v[i]) <= 1e-3 * scale, $"not an eigenvector at {i}");
        // The top one: no unit basis vector has a larger Rayleigh quotient.
        for (int i = 0; i < channels; i++) Assert.True(covariance[i, i] <= lambda * (1 + 1e-4) + 1e-9);
        double correlation = 0;
        for (int p = 0; p < plane; p++)
        {
            double projection = 0, sum = 0;
            for (int k = 0; k < channels; k++) { projection += x[k, p] * v[k]; sum += planes[k * plane + p]; }
            Assert.Equal(projection, map[p], 4);
            correlation += projection * sum;
        }
        Assert.True(correlation >= 0);
    }

    [Fact]
    public void PrincipalProjection_OfRankOneChannels_IsTheCentredPatternTimesTheNorm()
    {
        // B^k = a_k P + c_k: centred X = (P − P̄) aᵀ, so v₁ = a/|a| and X·v₁ = |a| (P − P̄); Σ_k a_k > 0 fixes the sign.
        float[] pattern = [0f, 1f, 3f, 2f, 5f, 1f];
        float[] a = [2f, -1f, 0.5f];
        float[] offsets = [1f, -3f, 0.25f];
        var planes = new float[3 * 6];
        for (int k = 0; k < 3; k++) for (int p = 0; p < 6; p++) planes[k * 6 + p] = a[k] * pattern[p] + offsets[k];
        var direction = new float[3];
        var projection = new float[6];
        MapOps.PrincipalProjection(planes, 3, 6, direction, projection);
        float norm = MathF.Sqrt(a.Sum(v => v * v)), mean = pattern.Average();
        TestNets.AssertClose(a.Select(v => v / norm).ToArray(), direction, 1e-5f);
        TestNets.AssertClose(pattern.Select(v => norm * (v - mean)).ToArray(), projection, 1e-4f);
    }

    [Fact]
    public void EigenCam_ProjectsActivationsOnTheirTopPrincipalComponent()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 3, 5, 2, seed: 181));
        var result = explainer.Explain(new EigenCam(), TestNets.Images(182, 2, 1, 6, 6), CamTarget.Class(0));
        var c = result.Capture;
        Assert.Null(c.Gradients);
        for (int n = 0; n < 2; n++)
        {
            var planes = c.Activations.AsSpan(n * c.Channels * c.Plane, c.Channels * c.Plane).ToArray();
            AssertFirstPrincipalComponent(planes, c.Channels, c.Plane, result.ChannelWeightsOf(n), result.WeightedSumOf(n));
            TestNets.AssertClose(result.WeightedSumOf(n).ToArray().Select(v => MathF.Max(v, 0f)).ToArray(), result.MapOf(n), 1e-6f);
        }
    }

    [Fact]
    public void EigenGradCam_ProjectsGradientTimesActivationOnItsTopPrincipalComponent()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(1, 3, 5, 2, seed: 191));
        var result = explainer.Explain(new EigenGradCam(), TestNets.Images(192, 2, 1, 6, 6), CamTarget.Class(1), "features.1");
        var c = result.Capture;
        for (int n = 0; n < 2; n++)
        {
            int offset = n * c.Channels * c.Plane;
            var planes = new float[c.Channels * c.Plane];
            for (int i = 0; i < planes.Length; i++) planes[i] = c.Gradients![offset + i] * c.Activations[offset + i];
            AssertFirstPrincipalComponent(planes, c.Channels, c.Plane, result.ChannelWeightsOf(n), result.WeightedSumOf(n));
        }
    }
}
