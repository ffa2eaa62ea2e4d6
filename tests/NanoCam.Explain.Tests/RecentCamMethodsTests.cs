using NanoCam.Explain.Methods;
using NanoCam.Nn.Models;

namespace NanoCam.Explain.Tests;

/// <summary>KPCA-CAM, ShapleyCAM, Finer-CAM and FEM on cases whose answer is known by hand.</summary>
public class RecentCamMethodsTests
{
    private static float[] RandomPlanes(int seed, int channels, int plane)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, channels * plane).Select(_ => (float)(rng.NextDouble() * 2 - 0.5))];
    }

    [Fact]
    public void KpcaCam_WithALinearKernel_IsEigenCamsProjection()
    {
        const int channels = 5, plane = 12;
        var planes = RandomPlanes(7, channels, plane);
        var eigen = new float[plane];
        MapOps.PrincipalProjection(planes, channels, plane, new float[channels], eigen);
        var kernel = new float[plane];
        KpcaCam.Project(planes, channels, plane, KpcaKernel.Linear, 1f, kernel);
        TestNets.AssertClose(eigen, kernel, 1e-4f);
    }

    [Fact]
    public void KpcaCam_OfTwoGroupsOfPositions_SeparatesThemBySqrtOfHalfOneMinusTheKernel()
    {
        // Positions 0–3 hold x_a, 4–7 hold x_b: K is two blocks of 1 and e = exp(−γ‖x_a − x_b‖²); centred, its only
        // eigenvector of a positive eigenvalue is s = ±1 by group with λ = n(1 − e)/2, so √λ·s/√n = ±√((1 − e)/2).
        float[] xa = [2f, 0f, 1f], xb = [0f, 1f, 3f];
        const int plane = 8;
        var planes = new float[3 * plane];
        for (int k = 0; k < 3; k++) for (int p = 0; p < plane; p++) planes[k * plane + p] = p < 4 ? xa[k] : xb[k];
        const float gamma = 0.2f;
        double distance = xa.Zip(xb, (a, b) => (a - b) * (a - b)).Sum();
        float expected = (float)Math.Sqrt((1 - Math.Exp(-gamma * distance)) / 2);
        var projection = new float[plane];
        KpcaCam.Project(planes, 3, plane, KpcaKernel.Rbf, gamma, projection);
        // Σ_k x_b = 4 > Σ_k x_a = 3: the group b is the positive side.
        for (int p = 0; p < plane; p++) Assert.Equal(p < 4 ? -expected : expected, projection[p], 5);
    }

    [Fact]
    public void KpcaCam_RbfProjection_IsAnEigenvectorOfTheCentredKernelMatrix_WithTheLargestEigenvalue()
    {
        const int channels = 4, plane = 9;
        var planes = RandomPlanes(11, channels, plane);
        const float gamma = 0.25f;
        var projection = new float[plane];
        KpcaCam.Project(planes, channels, plane, KpcaKernel.Rbf, gamma, projection);
        // The centred kernel matrix by plain loops (centring the activations first changes no distance).
        var gram = new double[plane, plane];
        for (int p = 0; p < plane; p++)
            for (int q = 0; q < plane; q++)
            {
                double d = 0;
                for (int k = 0; k < channels; k++) d += Math.Pow(planes[k * plane + p] - planes[k * plane + q], 2);
                gram[p, q] = Math.Exp(-gamma * d);
            }
        var centred = new double[plane, plane];
        double all = 0;
        var row = new double[plane];
        for (int p = 0; p < plane; p++) for (int q = 0; q < plane; q++) { row[p] += gram[p, q] / plane; all += gram[p, q] / (plane * plane); }
        for (int p = 0; p < plane; p++) for (int q = 0; q < plane; q++) centred[p, q] = gram[p, q] - row[p] - row[q] + all;
        // projection = √λ·α: K̃·projection = λ·projection with λ = ‖projection‖².
        double lambda = projection.Sum(v => (double)v * v);
        for (int p = 0; p < plane; p++)
        {
            double product = 0;
            for (int q = 0; q < plane; q++) product += centred[p, q] * projection[q];
            Assert.Equal(lambda * projection[p], product, 4);
        }
        // No basis vector has a larger Rayleigh quotient than λ (it is the top one).
        for (int p = 0; p < plane; p++) Assert.True(centred[p, p] <= lambda + 1e-6);
    }

    [Fact]
    public void KpcaCam_MedianGamma_IsOneOverTheMedianSquaredDistanceBetweenPositions()
    {
        // One channel, positions 0, 1, 3: squared distances 1, 9, 4 → median 4. Two channels, positions (0, 0), (1, 0),
        // (0, 1), (1, 2): the six distances 1, 1, 2, 2, 4, 5 → median 2. Every position alike: 1/K.
        Assert.Equal(0.25f, KpcaCam.MedianGamma([0f, 1f, 3f], 1, 3));
        Assert.Equal(0.5f, KpcaCam.MedianGamma([0f, 1f, 0f, 1f, 0f, 0f, 1f, 2f], 2, 4));
        Assert.Equal(0.5f, KpcaCam.MedianGamma([1f, 1f, 1f, 1f, 1f, 1f], 2, 3));
    }

    [Fact]
    public void KpcaCam_OnANetworkWithALinearKernel_GivesEigenCamsMap()
    {
        var explainer = TestNets.Explainer(TestNets.OneConv(2, 6, 3, seed: 21, randomBias: true));
        var images = TestNets.Images(22, 2, 2, 7, 7);
        var eigen = explainer.Explain(new EigenCam(), images, CamTarget.TopPrediction());
        var kpca = explainer.Explain(new KpcaCam(KpcaKernel.Linear), images, CamTarget.TopPrediction());
        TestNets.AssertClose(eigen.WeightedSum, kpca.WeightedSum, 1e-3f);
        Assert.Equal("kpcacam", CamMethods.Create("kpcacam").Name);
    }

    [Theory]
    [InlineData(FemWeighting.ExceedingFraction, 2f, new[] { 0f, 0, 0, 0, 0, 0, 0.25f, 1.25f }, new[] { 0.125f, 0f })]
    [InlineData(FemWeighting.ExceedingFraction, 0.5f, new[] { 2f, 2, 2, 2, 0, 0, 0.25f, 1.25f }, new[] { 0.125f, 0.5f })]
    [InlineData(FemWeighting.ChannelMean, 2f, new[] { 0f, 0, 0, 0, 0, 0, 0, 1.5f }, new[] { 1.5f, 2f })]
    [InlineData(FemWeighting.ChannelMean, 0.5f, new[] { 2f, 2, 2, 2, 0, 0, 0, 1.5f }, new[] { 1.5f, 2f })]
    public void Fem_KeepsWhatPassesTheKSigmaRule_OnChannelsWithKnownMeans(FemWeighting weighting, float k, float[] expectedMap, float[] expectedWeights)
    {
        // Channel 0 = (0, 0, 0, 0, 0, 0, 2, 10): μ = 1.5, σ = √10.75 ≈ 3.28; only the 10 passes μ + 2σ ≈ 8.06 (and μ + σ/2 ≈ 3.14).
        // Channel 1 = (4, 4, 4, 4, 0, 0, 0, 0): μ = 2, σ = 2; nothing passes 6 at k = 2, the four 4s pass 3 at k = 0.5.
        // Fraction: w = (1/8, 0 or 1/2), map = Σ w_k A^k; channel mean: w = (1.5, 2), map = Σ w_k·mask_k.
        float[] activations = [0, 0, 0, 0, 0, 0, 2, 10, 4, 4, 4, 4, 0, 0, 0, 0];
        var capture = new LayerCapture("layer", 1, 2, 2, 4, activations, null, [0f], 1, [0]);
        var context = new CamContext(capture, null!, null!, null!, CamTarget.Class(0));
        var fem = new Fem(k, weighting);
        var weights = new float[2];
        fem.ChannelWeights(context, weights);
        Assert.Equal(expectedWeights, weights);
        var map = new float[8];
        fem.Combine(context, 0, weights, map);
        Assert.Equal(expectedMap, map);
    }

    /// <summary>W [classes, channels] and b of a GAP network's classifier.</summary>
    private static (float[] Weights, float[] Bias) Head(GapCnn model) => (model.Classifier.Weight.Value.ToArray(), model.Classifier.Bias!.Value.ToArray());

    [Fact]
    public void ShapleyCam_WhereTheScoreIsLinearInTheActivations_IsGradCam()
    {
        // At the layer GAP reads, the logit is linear in A: H = 0, and the central difference of the gradients is exactly 0.
        var explainer = TestNets.Explainer(TestNets.OneConv(2, 5, 4, seed: 31, randomBias: true));
        var images = TestNets.Images(32, 2, 2, 6, 6);
        var shapley = explainer.Explain(new ShapleyCam(), images, CamTarget.TopPrediction());
        var grad = explainer.Explain(new GradCam(), images, CamTarget.TopPrediction());
        TestNets.AssertClose(grad.ChannelWeights, shapley.ChannelWeights, 1e-6f);
        TestNets.AssertClose(grad.Normalized, shapley.Normalized, 1e-5f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ShapleyCam_WithTheReStScore_SubtractsHalfTheHessianTimesTheActivations(bool builtIn)
    {
        // ReST: L = y_c + log p_c, ∂L/∂y = 2e_c − p. With y = W·GAP(A) + b, ∂L/∂A^k_ij = (Wᵀ(2e_c − p))_k / Z and, along
        // A, d(2e_c − p) = −(diag p − ppᵀ)·W·GAP(A) = −(diag p − ppᵀ)(y − b): (H·A)^k_ij = −(Wᵀ(diag p − ppᵀ)(y − b))_k / Z.
        var model = TestNets.OneConv(2, 5, 4, seed: 41, randomBias: true);
        var explainer = TestNets.Explainer(model);
        var images = TestNets.Images(42, 2, 2, 6, 6);
        var classes = new int[2];
        var rest = CamTarget.ScoreGradient((n, y) =>
        {
            var p = new float[y.Length];
            MapOps.Softmax(y, p);
            int c = Array.IndexOf(y, y.Max());
            return [.. p.Select((value, m) => (m == c ? 2f : 0f) - value)];
        });
        // The score given as a target, or the method's own ReST option.
        var result = builtIn ? explainer.Explain(new ShapleyCam(residualSoftmax: true), images, CamTarget.TopPrediction())
            : explainer.Explain(new ShapleyCam(), images, rest);
        var (w, b) = Head(model);
        int classCount = 4, channels = 5, z = 36;
        for (int n = 0; n < 2; n++)
        {
            var y = result.Capture.ScoresOf(n).ToArray();
            var p = new double[classCount];
            double sum = y.Sum(v => Math.Exp(v));
            for (int m = 0; m < classCount; m++) p[m] = Math.Exp(y[m]) / sum;
            int c = Array.IndexOf(y, y.Max());
            var moved = new double[classCount]; // (diag p − ppᵀ)(y − b)
            double pDotShift = Enumerable.Range(0, classCount).Sum(m => p[m] * (y[m] - b[m]));
            for (int m = 0; m < classCount; m++) moved[m] = p[m] * (y[m] - b[m]) - p[m] * pDotShift;
            for (int k = 0; k < channels; k++)
            {
                double gradient = 0, hessian = 0;
                for (int m = 0; m < classCount; m++)
                {
                    gradient += w[m * channels + k] * ((m == c ? 2 : 0) - p[m]) / z;
                    hessian -= w[m * channels + k] * moved[m] / z;
                }
                Assert.True(Math.Abs(hessian) > 1e-4, "the Hessian term must count in this case");
                double expected = gradient - 0.5 * hessian;
                Assert.Equal(expected, result.ChannelWeightsOf(n)[k], 1e-4);
            }
        }
    }

    [Fact]
    public void ShapleyCam_InPassesOfTwoImages_GivesTheWeightsOfOnePass()
    {
        // The moved passes of a chunked batch must move each chunk's images by their own activations.
        var model = TestNets.TwoConv(2, 4, 5, 3, seed: 45);
        var images = TestNets.Images(46, 5, 2, 6, 6);
        var softmax = CamTarget.ScoreGradient((n, y) =>
        {
            var p = new float[y.Length];
            MapOps.Softmax(y, p);
            int c = Array.IndexOf(y, y.Max());
            return [.. p.Select((value, m) => (m == c ? value : 0f) - p[c] * value)];
        });
        var whole = TestNets.Explainer(model).Explain(new ShapleyCam(), images, softmax, "features.1");
        var chunked = TestNets.Explainer(model);
        chunked.PassMemoryBudget = 5 * chunked.ActivationBytesPerImage(2, 6, 6);
        Assert.Equal(2, chunked.ImagesPerPass(2, 6, 6, withGradients: true));
        var parts = chunked.Explain(new ShapleyCam(), images, softmax, "features.1");
        TestNets.AssertClose(whole.ChannelWeights, parts.ChannelWeights, 1e-5f);
    }

    [Fact]
    public void FinerTarget_SimilarClasses_AreTheNearestLogits_LowerIndexFirstOnTies()
    {
        Assert.Equal([2, 3, 4], FinerTarget.SimilarClasses([5f, 1f, 4.5f, 7f, 3f], 0, 3));
        Assert.Equal([0], FinerTarget.SimilarClasses([5f, 1f], 1, 3));
    }

    [Fact]
    public void FinerTarget_Seed_IsTheGradientOfItsScore_ByCentralDifferences()
    {
        var target = new FinerTarget(CamTarget.Class(1), 0.7f, 3);
        float[] logits = [1.2f, 2.0f, 1.7f, -0.4f, 2.6f, 0.1f];
        var seed = new float[logits.Length];
        target.Seed(0, logits, seed);
        for (int m = 0; m < logits.Length; m++)
        {
            const float h = 1e-2f;
            var up = (float[])logits.Clone();
            var down = (float[])logits.Clone();
            up[m] += h;
            down[m] -= h;
            float numeric = (target.Score(0, up) - target.Score(0, down)) / (2 * h);
            Assert.True(MathF.Abs(numeric - seed[m]) < 2e-3f, $"class {m}: finite difference {numeric}, seed {seed[m]}");
        }
    }

    [Fact]
    public void FinerCam_WithAlphaZero_IsGradCam()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(2, 4, 5, 6, seed: 51));
        var images = TestNets.Images(52, 2, 2, 6, 6);
        var finer = explainer.Explain(new FinerCam(alpha: 0f), images, CamTarget.TopPrediction(), "features.1");
        var grad = explainer.Explain(new GradCam(), images, CamTarget.TopPrediction(), "features.1");
        TestNets.AssertClose(grad.ChannelWeights, finer.ChannelWeights, 1e-5f);
        Assert.Equal(grad.Capture.TargetClasses, finer.Capture.TargetClasses);
    }

    [Fact]
    public void FinerCam_AtTheGapLayer_WeighsTheChannelsByTheClassifierTimesTheScoresGradient()
    {
        // At the layer GAP reads, α_k = (1/Z) Σ_m ∂S/∂y^m · W_mk; ∂S/∂y is taken here by central differences of S.
        var model = TestNets.OneConv(2, 5, 6, seed: 61, randomBias: true);
        var explainer = TestNets.Explainer(model);
        var images = TestNets.Images(62, 1, 2, 6, 6);
        var result = explainer.Explain(new FinerCam(), images, CamTarget.TopPrediction());
        var target = new FinerTarget(CamTarget.TopPrediction(), 1f, 3);
        var logits = result.Capture.ScoresOf(0).ToArray();
        var (w, _) = Head(model);
        var expected = new float[5];
        for (int m = 0; m < 6; m++)
        {
            const float h = 1e-2f;
            var up = (float[])logits.Clone();
            var down = (float[])logits.Clone();
            up[m] += h;
            down[m] -= h;
            // The class is fixed at the unmoved logits' top prediction.
            var fixedTarget = target with { Inner = CamTarget.Class(result.Capture.TargetClasses[0]) };
            float derivative = (fixedTarget.Score(0, up) - fixedTarget.Score(0, down)) / (2 * h);
            for (int k = 0; k < 5; k++) expected[k] += derivative * w[m * 5 + k] / 36;
        }
        TestNets.AssertClose(expected, result.ChannelWeightsOf(0), 3e-3f);
    }
}
