using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Relevance;
using NanoCam.Explain.Tests.Zoo;
using NanoCam.Imaging;
using NanoCam.Nn.Checkpoints;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
using NanoCam.Onnx;
using NanoCam.Ops;
using Xunit.Abstractions;

namespace NanoCam.Explain.Tests;

/// <summary>
/// Layer-wise Relevance Propagation. A two-layer dense net is worked by hand, in direct loops, for LRP-ε, LRP-γ and the
/// composite (z^B below ε). Conservation: with every bias zero, LRP-0 and LRP-γ give each layer a relevance that sums to
/// y^c (z_k = Σ_j z_jk holds for LRP-0's z, and for LRP-γ's ρ(z) = Σ_j a_j ρ(w_jk), so Σ_j R_j = Σ_k R_k); z^B conserves
/// always (its bias terms b − b⁺ − b⁻ cancel). A bias keeps b_k/z_k·R_k and ε keeps ε_k/(z_k + ε_k)·R_k, so with biases, or
/// under LRP-ε, Σ R drifts from y^c by what they absorb: measured and printed here, not asserted. "Each layer" is every
/// tensor that all paths from the scores to the image cross (a fire module's two branches are one layer after their concat).
/// </summary>
public sealed class LrpTests(ITestOutputHelper output)
{
    private static readonly SimdKernels Kernels = new(threads: 2);

    [Theory]
    [InlineData(LrpRule.Epsilon)]
    [InlineData(LrpRule.Gamma)]
    [InlineData(LrpRule.Composite)]
    [InlineData(LrpRule.Zero)]
    public void Lrp_MatchesTheRulesWorkedInLoops_OnATwoLayerDenseNet(LrpRule rule)
    {
        var net = DenseNet.Random(inputs: 5, hidden: 4, classes: 3, seed: 7);
        var settings = new LrpSettings(rule, Epsilon: 0.3f, Gamma: 0.4f, Low: [-1f], High: [1f]);
        var images = TestNets.Images(11, 2, 1, 1, 5);
        var explainer = new CamExplainer(net, NaiveKernels.Instance);
        var result = new Lrp(settings).Explain(explainer, images, CamTarget.TopPrediction());
        for (int n = 0; n < 2; n++)
        {
            var x = images.ToArray().AsSpan(n * 5, 5).ToArray();
            var expected = net.RelevanceByHand(x, result.TargetClasses[n], settings);
            TestNets.AssertClose(expected, result.Of(n), 1e-4f);
        }
    }

    [Theory]
    [InlineData(LrpRule.Composite)]
    [InlineData(LrpRule.Epsilon)]
    public void Lrp_OfABatch_IsEachImagesOwn(LrpRule rule)
    {
        // ε is relative to each image's own layer scale and z^B's fallback bounds are each image's range: no image sees another.
        var model = TestNets.TwoConv(3, 4, 6, 3, seed: 9);
        var explainer = new CamExplainer(new ModuleExplainable(model), Kernels);
        var images = TestNets.Images(12, 3, 3, 8, 8);
        var lrp = new Lrp(new LrpSettings(rule));
        var batch = lrp.Explain(explainer, images, CamTarget.TopPrediction());
        for (int n = 0; n < 3; n++)
        {
            var alone = lrp.Explain(explainer, TestNets.ImageOf(images, n), CamTarget.Class(batch.TargetClasses[n]));
            TestNets.AssertClose(alone.Of(0), batch.Of(n), 1e-5f);
        }
    }

    [Fact]
    public void Lrp_RefusesInOneLine_AnOperationWithoutARule()
    {
        var net = DenseNet.Random(inputs: 5, hidden: 4, classes: 3, seed: 7) with { Sigmoid = true };
        var explainer = new CamExplainer(net, NaiveKernels.Instance);
        var e = Assert.Throws<NotSupportedException>(() => new Lrp().Explain(explainer, TestNets.Images(1, 1, 1, 1, 5), CamTarget.TopPrediction()));
        Assert.StartsWith("lrp: no relevance rule for the operation 'Sigmoid'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(LrpRule.Zero)]
    [InlineData(LrpRule.Gamma)]
    public void Lrp_ConservesTheTargetScoreAtEveryLayer_OnAHandBuiltNetWithoutBiases(LrpRule rule)
    {
        // conv, ReLU, max pool, conv, batch norm, ReLU, average pool, conv, ReLU, GAP, linear: every rule kind of a CNN.
        var rng = new Random(3);
        var model = new GapCnn(new Sequential(
            new Conv2d(3, 6, 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 8, 3, padding: 1, rng: rng), new BatchNorm2d(8), new ReLU(), new AvgPool2d(2),
            new Conv2d(8, 8, 3, padding: 1, rng: rng), new ReLU()), 8, 4, rng);
        RandomizeBatchNorm(model, 5);
        ZeroBiases(model);
        var errors = LayerErrors(new CamExplainer(new ModuleExplainable(model), Kernels), TestNets.Images(4, 1, 3, 16, 16), new LrpSettings(rule));
        Assert.True(errors.Count >= 8, $"only {errors.Count} layers");
        foreach (var (layer, error) in errors) Assert.True(error < 1e-4, $"{rule}: Σ R at {layer} is off y^c by {error:E2} (relative)");
    }

    [Theory]
    [InlineData(LrpRule.Zero)]
    [InlineData(LrpRule.Gamma)]
    public void Lrp_ConservesTheTargetScoreAtEveryLayer_OnTheShapesNetworkWithoutBiases(LrpRule rule)
    {
        var (model, image) = ShapesNetwork();
        ZeroBiases(model);
        var errors = LayerErrors(new CamExplainer(new ModuleExplainable(model), Kernels), image, new LrpSettings(rule));
        Assert.True(errors.Count >= 15, $"only {errors.Count} layers");
        foreach (var (layer, error) in errors) Assert.True(error < 1e-4, $"{rule}: Σ R at {layer} is off y^c by {error:E2} (relative)");
    }

    [Theory]
    [InlineData(LrpRule.Zero)]
    [InlineData(LrpRule.Gamma)]
    public void Lrp_ConservesTheTargetScoreAtEveryLayer_OnSqueezeNetWithoutBiases(LrpRule rule)
    {
        var model = OnnxModel.Load(ZooModel.PathOf(Path.Combine("..", "SqueezeNet_fp32_from_fp16.onnx")));
        foreach (var (_, parameter) in model.Parameters)
            if (parameter.Shape.Rank == 1) parameter.Span.Clear();
        var errors = LayerErrors(new CamExplainer(new OnnxExplainable(model, null), Kernels), Kitten(), new LrpSettings(rule));
        // conv1, the three pools, eight fire modules (squeeze conv and ReLU, the concat, its two expand branches joined), conv10.
        Assert.True(errors.Count >= 30, $"only {errors.Count} layers");
        foreach (var (layer, error) in errors) Assert.True(error < 1e-4, $"{rule}: Σ R at {layer} is off y^c by {error:E2} (relative)");
    }

    [Fact]
    public void Lrp_ZB_ConservesAtTheImage_AndEveryRuleReportsItsDrift_WithTheShippedBiases()
    {
        // With biases, z^B at the first layer still passes on exactly what reaches it; what the biases and ε absorbed above
        // it is printed per rule and model (the figures docs/cam-math.md §12 quotes).
        var (shapes, image) = ShapesNetwork();
        var squeezeNet = new OnnxExplainable(OnnxModel.Load(ZooModel.PathOf(Path.Combine("..", "SqueezeNet_fp32_from_fp16.onnx"))), null);
        foreach (var (name, model, input) in new[] { ("shapes-vgg", (IExplainable)new ModuleExplainable(shapes), image), ("SqueezeNet 1.1", squeezeNet, Kitten()) })
        {
            var explainer = new CamExplainer(model, Kernels);
            foreach (var rule in Enum.GetValues<LrpRule>())
            {
                var errors = LayerErrors(explainer, input, new LrpSettings(rule), signed: true);
                output.WriteLine($"{name}, {rule}: Σ R at the image / y^c − 1 = {Signed(errors[^1].Error, 3)}; worst layer {Signed(errors.MaxBy(e => Math.Abs(e.Error)).Error, 3)}; "
                    + $"top to bottom: {string.Join(" ", errors.Select(e => Signed(e.Error, 2)))}");
                if (rule == LrpRule.Composite)
                {
                    // z^B reads the image: Σ R at the image equals Σ R at the first layer's output.
                    var (above, below) = (errors[^2].Error, errors[^1].Error);
                    Assert.True(Math.Abs(above - below) < 1e-4 * (1 + Math.Abs(above)), $"{name}: z^B did not conserve: {above} above, {below} at the image");
                }
            }
        }
    }

    [Fact]
    public void GradCamLrp_Combine_ZeroesGradCamBelowItsMean_AndMultipliesTheChannelMeanOfLrp()
    {
        float[] gradCam = [0f, 0.2f, 0.9f, 1f];          // mean 0.525: the first two are noise
        float[] relevance = [1f, 2f, 3f, 4f, -1f, 0f, 1f, 2f]; // two channels; means 0, 1, 2, 3
        var product = GradCamLrp.Combine(gradCam, relevance, 2);
        Assert.Equal([0f, 0f, 0.9f * 2f, 1f * 3f], product);
    }

    [Fact]
    public void GradCamLrp_IsTheBlurredProductOfItsParts_OnTheShapesNetwork()
    {
        var (model, image) = ShapesNetwork();
        var explainer = new CamExplainer(new ModuleExplainable(model), Kernels);
        var hybrid = new GradCamLrp().Explain(explainer, image, CamTarget.TopPrediction());
        var gradCam = explainer.Explain(new GradCam(), image, CamTarget.TopPrediction());
        var lrp = new Lrp().Explain(explainer, image, CamTarget.TopPrediction());
        var expected = NanoCam.Explain.Metrics.DeletionInsertion.GaussianBlur(GradCamLrp.Combine(gradCam.NormalizedOf(0), lrp.Of(0), 3), 1, 64, 64, 5f * 64 / 224);
        Assert.Equal((1, 1, 64, 64), (hybrid.Batch, hybrid.Channels, hybrid.Height, hybrid.Width));
        TestNets.AssertClose(expected, hybrid.Of(0), 1e-5f);
        Assert.Contains(hybrid.Values, v => v != 0f);
    }

    private static string Signed(double value, int digits)
    {
        double rounded = Math.Round(value, digits);
        return (rounded > 0 ? "+" : rounded < 0 ? "−" : "") + Math.Abs(rounded).ToString($"F{digits}", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// |Σ R − y^c| / |y^c| (or signed, Σ R / y^c − 1) at every tensor that every path from the scores to the image crosses,
    /// from the top down, the image last; the pass is seeded with 1 at the target, so Σ R is relative to y^c already.
    /// </summary>
    private static List<(string Layer, double Error)> LayerErrors(CamExplainer explainer, Tensor image, LrpSettings settings, bool signed = false)
    {
        Tape? tape = null;
        explainer.CaptureAtInput(image, CamTarget.TopPrediction(), configure: t => { tape = t; LrpPass.Install(t, settings); });
        var nodes = tape!.Nodes;
        var frontier = new HashSet<Tensor>(ReferenceEqualityComparer.Instance) { tape.BackwardRoot! };
        var errors = new List<(string, double)>();
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var node = nodes[i];
            if (!frontier.Remove(node.Output)) continue;
            foreach (var input in node.Inputs)
                if (input.RequiresGrad && !input.IsParameter) frontier.Add(input);
            if (frontier.Count != 1) continue;
            double sum = frontier.Single().Grad!.ToArray().Sum(v => (double)v);
            errors.Add(($"the input of node {i} ({node.Kind})", signed ? sum - 1 : Math.Abs(sum - 1)));
        }
        return errors;
    }

    private static (GapCnn Model, Tensor Image) ShapesNetwork()
    {
        var path = RepositoryFiles.PathOf("weights/shapes-vgg.safetensors");
        var metadata = ModelMetadata.Load(ModelMetadata.PathFor(path));
        var model = Architectures.Create(metadata.Architecture, metadata.InputChannels, metadata.Classes.Length, metadata.Seed);
        Checkpoint.Load(model, path);
        var shapes = new ShapesDataset(4, seed: 21);
        var image = new float[shapes.ImageSize];
        shapes.GetImage(2, image);
        int plane = shapes.Height * shapes.Width;
        for (int i = 0; i < image.Length; i++) image[i] = (image[i] - metadata.Mean[i / plane]) / metadata.Std[i / plane];
        return (model, Tensor.FromArray(image, 1, 3, shapes.Height, shapes.Width));
    }

    /// <summary>The kitten photo, ImageNet-normalized, [1, 3, 224, 224].</summary>
    private static Tensor Kitten()
    {
        var photo = ImageCodec.Load(ZooModel.PathOf(Path.Combine("..", "..", "images", "kitten_224.png")));
        var chw = new float[3 * photo.Height * photo.Width];
        photo.ToPlanar(chw);
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        int plane = photo.Height * photo.Width;
        for (int i = 0; i < chw.Length; i++) chw[i] = (chw[i] - mean[i / plane]) / std[i / plane];
        return Tensor.FromArray(chw, 1, 3, photo.Height, photo.Width);
    }

    /// <summary>Every bias zero, and every batch norm's shift β and running mean μ zero, so that its folded bias is zero.</summary>
    private static void ZeroBiases(GapCnn model)
    {
        foreach (var (name, parameter) in model.NamedParameters())
            if (name.EndsWith("bias", StringComparison.Ordinal) || name.EndsWith("running_mean", StringComparison.Ordinal))
                parameter.Value.Span.Clear();
    }

    private static void RandomizeBatchNorm(GapCnn model, int seed)
    {
        var rng = new Random(seed);
        foreach (var (name, parameter) in model.NamedParameters())
            if (name.EndsWith("running_var", StringComparison.Ordinal) || name.EndsWith("weight", StringComparison.Ordinal) && parameter.Value.Shape.Rank == 1)
            {
                var span = parameter.Value.Span;
                for (int i = 0; i < span.Length; i++) span[i] = (float)(0.5 + rng.NextDouble());
            }
    }

    /// <summary>x → flatten → W1·x + b1 → ReLU (or sigmoid) → W2·h + b2: the scores, explained by hand in <see cref="RelevanceByHand"/>.</summary>
    private sealed record DenseNet(float[] W1, float[] B1, float[] W2, float[] B2, int Inputs, int Hidden, int Classes) : IExplainable
    {
        public bool Sigmoid { get; init; }

        public static DenseNet Random(int inputs, int hidden, int classes, int seed)
        {
            var rng = new Random(seed);
            float[] Draw(int count) => Enumerable.Range(0, count).Select(_ => (float)(2 * rng.NextDouble() - 1)).ToArray();
            return new DenseNet(Draw(hidden * inputs), Draw(hidden), Draw(classes * hidden), Draw(classes), inputs, hidden, classes);
        }

        private static Tensor Parameter(float[] values, params int[] dims) => new(new Shape(dims), Tensor.FromArray(values, dims).Buffer) { IsParameter = true };

        public Tensor Scores(Tape tape, Tensor input)
        {
            var x = tape.Flatten(input, 1);
            var z1 = tape.Add(tape.MatMul(x, Parameter(W1, Hidden, Inputs), transposeB: true), Parameter(B1, Hidden));
            var h = Sigmoid ? tape.Sigmoid(z1) : tape.Relu(z1);
            return tape.Add(tape.MatMul(h, Parameter(W2, Classes, Hidden), transposeB: true), Parameter(B2, Classes));
        }

        public int Classes { get; } = Classes;
        public IReadOnlyList<string>? ClassNames => null;
        public CamHead? CamHead => null;
        public string DefaultLayer => CamExplainer.InputLayer;

        /// <summary>
        /// R at the input for class <paramref name="target"/>, R^(2) = y^c one-hot, by the rules' formulas in plain loops:
        /// R_j = Σ_k a_j ρ(w_kj) / (Σ_j' a_j' ρ(w_kj') + ρ(b_k) + ε_k) · R_k, or z^B at the first layer of the composite.
        /// </summary>
        public float[] RelevanceByHand(float[] x, int target, LrpSettings settings)
        {
            var z1 = new double[Hidden];
            for (int j = 0; j < Hidden; j++) { z1[j] = B1[j]; for (int i = 0; i < Inputs; i++) z1[j] += W1[j * Inputs + i] * x[i]; }
            var a = z1.Select(v => Math.Max(v, 0)).ToArray();
            var z2 = new double[Classes];
            for (int k = 0; k < Classes; k++) { z2[k] = B2[k]; for (int j = 0; j < Hidden; j++) z2[k] += W2[k * Hidden + j] * a[j]; }
            var r2 = new double[Classes];
            r2[target] = z2[target];
            bool composite = settings.Rule == LrpRule.Composite;
            var r1 = Layer(a, W2, B2, r2, Hidden, Classes, composite ? LrpRule.Epsilon : settings.Rule, settings);
            if (composite)
            {
                // z^B with l = −1, h = 1: R_i = Σ_j (x_i w_ji − l w⁺_ji − h w⁻_ji) / Σ_i'(…) · R_j.
                var r0 = new double[Inputs];
                for (int j = 0; j < Hidden; j++)
                {
                    double Term(int i) { double w = W1[j * Inputs + i]; return x[i] * w - (-1) * Math.Max(w, 0) - 1 * Math.Min(w, 0); }
                    double z = Enumerable.Range(0, Inputs).Sum(Term);
                    for (int i = 0; i < Inputs; i++) r0[i] += Term(i) / z * r1[j];
                }
                return r0.Select(v => (float)v).ToArray();
            }
            return Layer(x.Select(v => (double)v).ToArray(), W1, B1, r1, Inputs, Hidden, settings.Rule, settings).Select(v => (float)v).ToArray();
        }

        private static double[] Layer(double[] a, float[] w, float[] b, double[] r, int inputs, int outputs, LrpRule rule, LrpSettings settings)
        {
            double gamma = rule == LrpRule.Gamma ? settings.Gamma : 0;
            double Rho(double v) => v + gamma * Math.Max(v, 0);
            var z = new double[outputs];
            for (int k = 0; k < outputs; k++) { z[k] = Rho(b[k]); for (int j = 0; j < inputs; j++) z[k] += a[j] * Rho(w[k * inputs + j]); }
            if (rule == LrpRule.Epsilon)
            {
                double shift = settings.Epsilon * Math.Sqrt(z.Sum(v => v * v) / outputs);
                for (int k = 0; k < outputs; k++) z[k] += z[k] >= 0 ? shift : -shift;
            }
            var result = new double[inputs];
            for (int k = 0; k < outputs; k++)
                for (int j = 0; j < inputs; j++) result[j] += a[j] * Rho(w[k * inputs + j]) * r[k] / z[k];
            return result;
        }
    }
}
