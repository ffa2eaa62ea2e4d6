using System.Text.Json;
using NanoCam.Cpu.Naive;
using NanoCam.Explain.Methods;
using NanoCam.Imaging;
using NanoCam.Onnx;
using Xunit.Abstractions;

namespace NanoCam.Explain.Tests;

/// <summary>
/// The narrow ResNet of Reference/ (made by Reference/make_pytorch_gradcam_references.py) imported from ONNX and wrapped
/// as the command line does, with pytorch-grad-cam's maps for two classes at the last residual block.
/// </summary>
public sealed class PyTorchGradCamReference
{
    public PyTorchGradCamReference()
    {
        var meta = JsonDocument.Parse(File.ReadAllText(PathOf("resnet_narrow.json"))).RootElement;
        Layer = meta.GetProperty("target_tensor").GetString()!;
        Classes = [.. meta.GetProperty("target_classes").EnumerateArray().Select(c => c.GetInt32())];
        Model = new OnnxExplainable(OnnxModel.Load(PathOf("resnet_narrow.onnx")), classNames: null);
        var (input, shape) = Npy.Read(PathOf("input.npy"));
        Input = Tensor.FromArray(input, shape);
    }

    public OnnxExplainable Model { get; }
    public Tensor Input { get; }
    public string Layer { get; }
    public int[] Classes { get; }

    public CamExplainer Explainer() => new(Model, NaiveKernels.Instance);

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Reference", file);

    public static float[] Read(string file) => Npy.Read(PathOf(file)).Data;
}

/// <summary>
/// Parity with pytorch-grad-cam (commit 084273b), the library users compare with first: every method both have, on
/// the same ONNX model, input, layer and class, held against the map pytorch-grad-cam wrote (Pearson r and max |Δ| over
/// the 64×64 map, printed). Where a method cannot match, the test says what it checks instead
/// (docs/pytorch-grad-cam-parity.md gives the reasons).
/// </summary>
public sealed class PyTorchGradCamParityTests(PyTorchGradCamReference reference, ITestOutputHelper output)
    : IClassFixture<PyTorchGradCamReference>
{
    [Fact]
    public void Logits_MatchPyTorch()
    {
        var expected = PyTorchGradCamReference.Read("logits.npy");
        var actual = reference.Explainer().ScoresOf(reference.Input);
        float largest = expected.Max(MathF.Abs), worst = 0f;
        for (int i = 0; i < expected.Length; i++) worst = MathF.Max(worst, MathF.Abs(expected[i] - actual[i]));
        output.WriteLine($"logits: max |Δ| = {worst:E2}, largest |logit| = {largest:F4}");
        Assert.True(worst <= 1e-4f * largest, $"max |Δ| {worst} exceeds 1e-4 × {largest}");
        // The classes explained below: the top one, and one with a negative score.
        Assert.Equal([2, 4], reference.Classes);
        Assert.Equal(2, Array.IndexOf(actual, actual.Max()));
        Assert.True(actual[4] < 0f);
    }

    [Theory, InlineData(2), InlineData(4)]
    public void GradCam_MatchesPyTorchGradCam(int cls) => AssertParity(new GradCam(), "gradcam", cls);

    [Theory, InlineData(2), InlineData(4)]
    public void HiResCam_MatchesPyTorchGradCam(int cls) => AssertParity(new HiResCam(), "hirescam", cls);

    [Theory, InlineData(2), InlineData(4)]
    public void GradCamElementwise_MatchesPyTorchGradCam(int cls) =>
        AssertParity(new GradCamElementwise(), "gradcam-elementwise", cls);

    /// <summary>Grad-CAM++ with pytorch-grad-cam's ε = 1e-6 in α's denominator (without it: r = 0.9968 / 0.9921, max |Δ| = 0.050 / 0.111).</summary>
    [Theory, InlineData(2), InlineData(4)]
    public void GradCamPlusPlus_MatchesPyTorchGradCam(int cls) => AssertParity(new GradCamPlusPlus(), "gradcam++", cls);

    [Theory, InlineData(2), InlineData(4)]
    public void XGradCam_MatchesPyTorchGradCam(int cls) => AssertParity(new XGradCam(), "xgradcam", cls);

    [Theory, InlineData(2), InlineData(4)]
    public void LayerCam_MatchesPyTorchGradCam(int cls) => AssertParity(new LayerCam(), "layercam", cls);

    [Theory, InlineData(2), InlineData(4)]
    public void AblationCam_MatchesPyTorchGradCam(int cls) => AssertParity(new AblationCam(), "ablationcam", cls);

    /// <summary>
    /// Score-CAM with pytorch-grad-cam's masks (aligned corners, ε = 1e-8) and weights (softmax over the channels of the
    /// raw scores). The authors' convention (half-pixel masks, class probabilities) gives r = 0.99999, max |Δ| = 4.6e-3 /
    /// 3.5e-3 on this untrained network, whose masked scores are all alike; more on a trained one.
    /// </summary>
    [Theory, InlineData(2), InlineData(4)]
    public void ScoreCam_MatchesPyTorchGradCam(int cls) => AssertParity(new ScoreCam(), "scorecam", cls);

    /// <summary>
    /// FullGrad over the input and every biased Conv (BN folded in by the export): ψ scales each channel at its own
    /// resolution, then upsamples, as pytorch-grad-cam (upsampling first gave r = 0.9846 / 0.9943, max |Δ| = 0.094 / 0.070).
    /// </summary>
    [Theory, InlineData(2), InlineData(4)]
    public void FullGrad_MatchesPyTorchGradCam(int cls) => AssertParity(new FullGrad(), "fullgrad", cls);

    [Theory, InlineData(2), InlineData(4)]
    public void EigenGradCam_MatchesPyTorchGradCam_UpToTheSvdSign(int cls) =>
        AssertEigenParity(new EigenGradCam(), $"eigengradcam.c{cls}", cls);

    [Fact]
    public void EigenCam_MatchesPyTorchGradCam_UpToTheSvdSign() => AssertEigenParity(new EigenCam(), "eigencam", reference.Classes[0]);

    /// <summary>
    /// ShapleyCAM: pytorch-grad-cam takes the Hessian-vector product by double backward, NanoCam by a central difference of
    /// gradients (docs/cam-math.md §15). On this network the logit is piecewise linear in A, HA = 0 in both, and the maps agree.
    /// </summary>
    [Theory, InlineData(2), InlineData(4)]
    public void ShapleyCam_MatchesPyTorchGradCam(int cls) => AssertParity(new ShapleyCam(), "shapleycam", cls);

    /// <summary>Finer-CAM without targets in pytorch-grad-cam: class c against the 3 classes whose logits are nearest, α = 1.</summary>
    [Theory, InlineData(2), InlineData(4)]
    public void FinerCam_MatchesPyTorchGradCam(int cls) => AssertParity(new FinerCam(), "finercam", cls);

    /// <summary>FEM (class-agnostic): the k-sigma masks (k = 2) weighted by the fraction of each channel that passes.</summary>
    [Fact]
    public void Fem_MatchesPyTorchGradCam() => AssertParity(new Fem(), "fem", reference.Classes[0], file: "fem");

    /// <summary>
    /// KPCA-CAM with NanoCam's default RBF kernel: γ by the median heuristic, recomputed by the script (its value is in
    /// resnet_narrow.json), then the projection on the first kernel principal component, equal up to the eigensolver's sign.
    /// </summary>
    [Fact]
    public void KpcaCam_Rbf_MatchesPyTorchGradCam_UpToTheEigenvectorSign()
    {
        var meta = JsonDocument.Parse(File.ReadAllText(PyTorchGradCamReference.PathOf("resnet_narrow.json"))).RootElement;
        float gamma = (float)meta.GetProperty("kpcacam_rbf_gamma").GetDouble();
        var capture = reference.Explainer().Explain(new GradCam(), reference.Input, CamTarget.Class(reference.Classes[0]), reference.Layer).Capture;
        var planes = new float[capture.Channels * capture.Plane];
        for (int k = 0; k < capture.Channels; k++) capture.ActivationPlane(0, k).CopyTo(planes.AsSpan(k * capture.Plane, capture.Plane));
        float ours = KpcaCam.MedianGamma(planes, capture.Channels, capture.Plane);
        output.WriteLine($"median-heuristic γ: ours {ours:G7}, the script's {gamma:G7}");
        Assert.Equal(gamma, ours, gamma * 1e-4f);
        AssertEigenParity(new KpcaCam(KpcaKernel.Rbf), "kpcacam.rbf", reference.Classes[0]);
    }

    /// <summary>KPCA-CAM with pytorch-grad-cam's default kernel: sigmoid, γ = 1 / channels (scikit-learn's default).</summary>
    [Fact]
    public void KpcaCam_Sigmoid_MatchesPyTorchGradCam_UpToTheEigenvectorSign() =>
        AssertEigenParity(new KpcaCam(KpcaKernel.Sigmoid), "kpcacam.sigmoid", reference.Classes[0]);

    /// <summary>
    /// RandomCAM draws from NumPy's generator, RandomCam from System.Random: the maps cannot match. What can: the
    /// weights pytorch-grad-cam drew, put through our combination and tail, give its map.
    /// </summary>
    [Theory, InlineData(2), InlineData(4)]
    public void RandomCam_WithPyTorchGradCamsWeights_MatchesItsMap(int cls)
    {
        var weights = PyTorchGradCamReference.Read($"randomcam.c{cls}.weights.npy");
        AssertParity(new FixedWeights(weights), "randomcam", cls);
        var ours = reference.Explainer().Explain(new RandomCam(), reference.Input, CamTarget.Class(cls), reference.Layer);
        Assert.All(ours.ChannelWeightsOf(0).ToArray(), w => Assert.InRange(w, -1f, 1f));
    }

    /// <summary>Guided Backprop: the raw input gradients [3, 64, 64]; |Δ| relative to the largest |gradient|.</summary>
    [Theory, InlineData(2), InlineData(4)]
    public void GuidedBackprop_MatchesPyTorchGradCam(int cls)
    {
        var expected = PyTorchGradCamReference.Read($"guidedbackprop.c{cls}.npy");
        var actual = GuidedBackprop.Explain(reference.Explainer(), reference.Input, CamTarget.Class(cls)).Of(0).ToArray();
        float largest = expected.Max(MathF.Abs);
        var (r, maxAbs) = Compare(expected, actual);
        output.WriteLine($"guidedbackprop class {cls}: r = {r:F6}, max |Δ| / max |g| = {maxAbs / largest:E2}");
        Assert.True(r >= MinR && maxAbs <= 1e-5f * largest, $"r = {r}, max |Δ| = {maxAbs} (largest {largest})");
    }

    /// <summary>
    /// Eigen-CAM and Eigen-Grad-CAM: the projection on the first principal component before ReLU matches up to its sign,
    /// which NumPy's SVD leaves to LAPACK and NanoCam fixes (positive correlation with Σ_k B^k). Where the two signs agree
    /// the maps match; where they do not, the test says so and checks that pytorch-grad-cam's map is the ReLU of the
    /// other half of the same projection.
    /// </summary>
    private void AssertEigenParity(CamMethod method, string file, int cls)
    {
        var result = reference.Explainer().Explain(method, reference.Input, CamTarget.Class(cls), reference.Layer);
        var projection = PyTorchGradCamReference.Read($"{file}.projection.npy");
        var (r, _) = Compare(projection, result.WeightedSumOf(0).ToArray());
        var (map, maxAbs) = Compare(PyTorchGradCamReference.Read($"{file}.npy"), result.NormalizedOf(0).ToArray());
        output.WriteLine($"{method.Name} class {cls}: projection r = {r:F6}; map r = {map:F6}, max |Δ| = {maxAbs:E2}");
        Assert.True(Math.Abs(r) >= 0.9999, $"the projections differ beyond a sign: r = {r}");
        if (r > 0) Assert.True(map >= MinR && maxAbs <= MaxDelta, $"r = {map}, max |Δ| = {maxAbs}");
        else
        {
            output.WriteLine($"{method.Name} class {cls}: LAPACK's sign is the opposite of NanoCam's here");
            var flipped = new FixedProjection(projection.Select(v => -v).ToArray());
            var theirs = reference.Explainer().Explain(flipped, reference.Input, CamTarget.Class(cls), reference.Layer);
            var (rf, maxf) = Compare(PyTorchGradCamReference.Read($"{file}.npy"), theirs.NormalizedOf(0).ToArray());
            Assert.True(rf >= MinR && maxf <= MaxDelta, $"r = {rf}, max |Δ| = {maxf}");
        }
    }

    /// <summary>
    /// What the matching methods reach is float32 rounding (max |Δ| below 4e-6 here). The issue asked for r ≥ 0.99 and
    /// max |Δ| ≤ 0.05; these are tighter so that a changed convention cannot hide in the tolerance.
    /// </summary>
    private const double MinR = 0.99999, MaxDelta = 1e-4;

    private void AssertParity(CamMethod method, string name, int cls, double minR = MinR, double maxDelta = MaxDelta, string? file = null)
    {
        var expected = PyTorchGradCamReference.Read($"{file ?? $"{name}.c{cls}"}.npy");
        var explainer = reference.Explainer();
        var result = explainer.Explain(method, reference.Input, CamTarget.Class(cls), reference.Layer);
        Assert.Empty(explainer.Warnings);
        var (r, maxAbs) = Compare(expected, result.NormalizedOf(0).ToArray());
        output.WriteLine($"{name} class {cls}: r = {r:F6}, max |Δ| = {maxAbs:E2}");
        Assert.True(r >= minR && maxAbs <= maxDelta, $"{name} class {cls}: r = {r} (≥ {minR}), max |Δ| = {maxAbs} (≤ {maxDelta})");
    }

    /// <summary>Pearson r and max |Δ| of two maps of the same size.</summary>
    private static (double R, float MaxAbs) Compare(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double meanE = expected.Average(v => (double)v), meanA = actual.Average(v => (double)v);
        double cov = 0, varE = 0, varA = 0;
        float maxAbs = 0f;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i] - meanE, a = actual[i] - meanA;
            cov += e * a;
            varE += e * e;
            varA += a * a;
            maxAbs = MathF.Max(maxAbs, MathF.Abs(expected[i] - actual[i]));
        }
        return (cov / Math.Sqrt(varE * varA), maxAbs);
    }

    /// <summary>Given channel weights, through the shared combination and tail (ReLU, upsampling, normalization).</summary>
    private sealed class FixedWeights(float[] weights) : CamMethod
    {
        public override string Name => "fixed-weights";
        public override bool UsesGradients => false;
        public override void ChannelWeights(CamContext context, Span<float> w) => weights.CopyTo(w);
    }

    /// <summary>A given map at the layer's resolution, through the shared tail.</summary>
    private sealed class FixedProjection(float[] map) : CamMethod
    {
        public override string Name => "fixed-projection";
        public override bool UsesGradients => false;
        public override bool HasChannelWeights => false;
        public override void ChannelWeights(CamContext context, Span<float> weights) => weights.Clear();
        public override void Combine(CamContext context, int n, ReadOnlySpan<float> weights, Span<float> result) => map.CopyTo(result);
    }
}
