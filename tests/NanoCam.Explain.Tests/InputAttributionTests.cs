using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Explain.Methods;
using NanoCam.Ops;

namespace NanoCam.Explain.Tests;

/// <summary>
/// The input-space methods against what is known without them: on a linear model y = W·x every gradient is W, so
/// saliency is |W|, input × gradient is x ⊙ W, SmoothGrad is W at any noise, and Integrated Gradients is exactly
/// (x − x′) ⊙ W with zero completeness error; on a ReLU network the completeness error shrinks as the steps grow,
/// Occlusion equals a direct loop over occluded copies, and saliency equals central finite differences.
/// </summary>
public sealed class InputAttributionTests
{
    private const int C = 2, H = 5, W = 4, Size = C * H * W, Classes = 3;

    /// <summary>y = W · flatten(x): scores [N, classes] with W [classes, C·H·W].</summary>
    private sealed class LinearModel(float[] weights) : IExplainable
    {
        public float[] Weights { get; } = weights;

        public Tensor Scores(Tape tape, Tensor input)
        {
            var flat = tape.Reshape(input, [input.Shape[0], Size]);
            return tape.MatMul(flat, Tensor.FromArray(Weights, Classes, Size), transposeB: true);
        }

        public int Classes => InputAttributionTests.Classes;
        public IReadOnlyList<string>? ClassNames => null;
        public CamHead? CamHead => null;
        public string DefaultLayer => "input";
    }

    private static LinearModel Linear(int seed)
    {
        var rng = new Random(seed);
        return new LinearModel([.. Enumerable.Range(0, Classes * Size).Select(_ => (float)(rng.NextDouble() * 2 - 1))]);
    }

    private static CamExplainer ExplainerOf(IExplainable model) => new(model, NaiveKernels.Instance);

    private static float WeightOf(LinearModel model, int cls, int v) => model.Weights[cls * Size + v];

    private static void Close(float expected, float actual, float tolerance) =>
        Assert.True(MathF.Abs(expected - actual) <= tolerance * (1 + MathF.Abs(expected)), $"expected {expected}, got {actual}");

    [Fact]
    public void OnALinearModel_SaliencyIsTheAbsoluteWeights_AndInputTimesGradientIsXTimesTheWeights()
    {
        var model = Linear(1);
        var images = TestNets.Images(2, 2, C, H, W);
        var x = images.ToArray();
        var saliency = new Saliency().Explain(ExplainerOf(model), images, CamTarget.Class(2));
        var inputXGradient = new InputXGradient().Explain(ExplainerOf(model), images, CamTarget.Class(2));
        for (int n = 0; n < 2; n++)
            for (int v = 0; v < Size; v++)
            {
                Close(MathF.Abs(WeightOf(model, 2, v)), saliency.Of(n)[v], 1e-5f);
                Close(x[n * Size + v] * WeightOf(model, 2, v), inputXGradient.Of(n)[v], 1e-5f);
            }
        // Saliency's map is the maximum over channels (Simonyan et al.), not the sum.
        var map = new Saliency().MapOf(saliency, 0);
        for (int p = 0; p < H * W; p++) Close(MathF.Max(MathF.Abs(WeightOf(model, 2, p)), MathF.Abs(WeightOf(model, 2, H * W + p))), map[p], 1e-5f);
    }

    [Theory]
    [InlineData(IntegrationBaseline.Zero)]
    [InlineData(IntegrationBaseline.Blur)]
    [InlineData(IntegrationBaseline.UniformNoise)]
    [InlineData(IntegrationBaseline.Black)]
    public void IntegratedGradients_OnALinearModel_IsExactlyXMinusBaselineTimesTheWeights_WithZeroCompletenessError(IntegrationBaseline baseline)
    {
        var model = Linear(3);
        var images = TestNets.Images(4, 2, C, H, W);
        var x = images.ToArray();
        var ig = new IntegratedGradients(steps: 3, baseline: baseline, seed: 5, black: [0.3f, -0.7f]);
        var result = ig.Explain(ExplainerOf(model), images, CamTarget.Class(1));
        for (int n = 0; n < 2; n++)
        {
            var reference = ig.BaselineOf(x.AsSpan(n * Size, Size), C, H, W, n);
            for (int v = 0; v < Size; v++)
                Close((x[n * Size + v] - reference[v]) * WeightOf(model, 1, v), result.Of(n)[v], 1e-4f);
            Assert.True(Math.Abs(result.CompletenessError![n]) < 1e-4, $"image {n}: completeness error {result.CompletenessError[n]}");
        }
    }

    [Fact]
    public void IntegratedGradients_OnAReluNetwork_ApproachesCompletenessAsTheStepsGrow()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(C, 3, 4, Classes, seed: 7));
        var image = TestNets.Images(8, 1, C, 6, 6);
        double coarse = Math.Abs(new IntegratedGradients(steps: 2).Explain(explainer, image, CamTarget.Class(0)).CompletenessError![0]);
        double fine = Math.Abs(new IntegratedGradients(steps: 128).Explain(explainer, image, CamTarget.Class(0)).CompletenessError![0]);
        var scores = explainer.ScoresOf(image);
        var zeros = explainer.ScoresOf(Tensor.Zeros(1, C, 6, 6));
        double difference = Math.Abs(scores[0] - zeros[0]);
        Assert.True(fine < coarse, $"128 steps ({fine:E2}) should beat 2 steps ({coarse:E2})");
        Assert.True(fine <= 0.02 * difference + 1e-5, $"128 steps leave a completeness error of {fine:E2} on a difference of {difference:E2}");
    }

    [Fact]
    public void SmoothGrad_OnALinearModel_IsTheWeightsAtAnyNoise_AndTheSquaredVariantTheirSquares()
    {
        var model = Linear(9);
        var image = TestNets.Images(10, 1, C, H, W);
        var plain = new SmoothGrad(samples: 6, noise: 0.3f).Explain(ExplainerOf(model), image, CamTarget.Class(0));
        var squared = new SmoothGrad(samples: 6, noise: 0.3f, squared: true).Explain(ExplainerOf(model), image, CamTarget.Class(0));
        for (int v = 0; v < Size; v++)
        {
            Close(WeightOf(model, 0, v), plain.Of(0)[v], 1e-5f);
            Close(WeightOf(model, 0, v) * WeightOf(model, 0, v), squared.Of(0)[v], 1e-5f);
        }
    }

    [Fact]
    public void SmoothGrad_OnAReluNetwork_AveragesTheGradientsOfItsNoisyCopies()
    {
        // With noise 0 every copy is the image: SmoothGrad is the plain gradient; with noise it differs from it.
        var explainer = TestNets.Explainer(TestNets.TwoConv(C, 3, 4, Classes, seed: 11));
        var image = TestNets.Images(12, 1, C, 6, 6);
        var gradient = new Saliency().Explain(explainer, image, CamTarget.Class(1));
        var noiseless = new SmoothGrad(samples: 3, noise: 0f).Explain(explainer, image, CamTarget.Class(1));
        for (int v = 0; v < gradient.Values.Length; v++) Close(gradient.Values[v], MathF.Abs(noiseless.Values[v]), 1e-5f);
        var noisy = new SmoothGrad(samples: 8, noise: 0.5f).Explain(explainer, image, CamTarget.Class(1));
        Assert.True(noisy.Values.Zip(noiseless.Values).Max(p => MathF.Abs(p.First - p.Second)) > 1e-4f);
    }

    [Fact]
    public void Saliency_OnAReluNetwork_EqualsCentralFiniteDifferences()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(C, 3, 4, Classes, seed: 13));
        var image = TestNets.Images(14, 1, C, 6, 6);
        var saliency = new Saliency().Explain(explainer, image, CamTarget.Class(2));
        var x = image.ToArray();
        const float h = 1e-2f;
        foreach (int v in new[] { 0, 7, 20, 35, 41, 66 })
        {
            var plus = (float[])x.Clone();
            var minus = (float[])x.Clone();
            plus[v] += h;
            minus[v] -= h;
            float difference = (explainer.ScoresOf(Tensor.FromArray(plus, 1, C, 6, 6))[2] - explainer.ScoresOf(Tensor.FromArray(minus, 1, C, 6, 6))[2]) / (2 * h);
            Assert.True(MathF.Abs(MathF.Abs(difference) - saliency.Values[v]) <= 2e-3f * (1 + MathF.Abs(difference)), $"x[{v}]: |FD| {MathF.Abs(difference)}, saliency {saliency.Values[v]}");
        }
    }

    [Fact]
    public void Occlusion_EqualsADirectLoopOverOccludedCopies()
    {
        var explainer = TestNets.Explainer(TestNets.TwoConv(C, 3, 4, Classes, seed: 15));
        var image = TestNets.Images(16, 1, C, 7, 6);
        var occlusion = new Occlusion(window: 3, stride: 2, batchSize: 5);
        var result = occlusion.Explain(explainer, image, CamTarget.Class(1));
        var x = image.ToArray();
        float original = explainer.ScoresOf(image)[1];
        var sum = new double[7 * 6];
        var count = new int[7 * 6];
        // Windows at rows 0, 2, 4 and columns 0, 2, 3 (the last one that fits is added).
        foreach (int r in new[] { 0, 2, 4 })
            foreach (int q in new[] { 0, 2, 3 })
            {
                var occluded = (float[])x.Clone();
                for (int c = 0; c < C; c++) for (int y = r; y < r + 3; y++) for (int u = q; u < q + 3; u++) occluded[(c * 7 + y) * 6 + u] = 0f;
                float drop = original - explainer.ScoresOf(Tensor.FromArray(occluded, 1, C, 7, 6))[1];
                for (int y = r; y < r + 3; y++) for (int u = q; u < q + 3; u++) { sum[y * 6 + u] += drop; count[y * 6 + u]++; }
            }
        Assert.Equal(1, result.Channels);
        for (int p = 0; p < 42; p++) Close((float)(sum[p] / count[p]), result.Of(0)[p], 1e-5f);
    }

    [Fact]
    public void TheRegistry_CreatesEveryNamedMethod_UnderItsName()
    {
        foreach (var name in InputAttributions.Names) Assert.Equal(name, InputAttributions.Create(name).Name);
        Assert.Throws<ArgumentException>(() => InputAttributions.Create("nosuch"));
    }
}
