using System.Text.Json;
using NanoCam.Cpu.Naive;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Targets;
using NanoCam.Imaging;
using NanoCam.Onnx;

namespace NanoCam.Explain.Tests;

/// <summary>
/// Each target's seed is the gradient of the scalar it names, checked by central finite differences of that scalar
/// computed directly from the output (not from the seed code).
/// </summary>
public sealed class TargetSeedTests
{
    private static float[] RandomOutput(int length, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 4 - 2))];
    }

    /// <summary>∂L/∂y_j ≈ (L(y + h e_j) − L(y − h e_j)) / 2h, in double.</summary>
    private static void AssertSeedIsGradient(CamTarget target, float[] output, Func<double[], double> scalar, double tolerance = 1e-4)
    {
        var seed = new float[output.Length];
        target.Seed(0, output, seed);
        var y = output.Select(v => (double)v).ToArray();
        const double h = 1e-5;
        for (int j = 0; j < y.Length; j++)
        {
            var plus = (double[])y.Clone(); plus[j] += h;
            var minus = (double[])y.Clone(); minus[j] -= h;
            double expected = (scalar(plus) - scalar(minus)) / (2 * h);
            Assert.True(Math.Abs(seed[j] - expected) <= tolerance * Math.Max(1, Math.Abs(expected)), $"∂L/∂y_{j}: seed {seed[j]}, finite difference {expected}");
        }
    }

    [Fact]
    public void Contrast_SeedsTheDifferenceOfTwoLogits() =>
        AssertSeedIsGradient(CamTarget.Contrast(3, 1), RandomOutput(5, 1), y => y[3] - y[1]);

    [Fact]
    public void Softmax_SeedsTheGradientOfTheProbability()
    {
        static double Softmax3(double[] y) => Math.Exp(y[3]) / y.Sum(Math.Exp);
        AssertSeedIsGradient(CamTarget.Softmax(3), RandomOutput(7, 2), Softmax3);
    }

    [Fact]
    public void Sigmoid_SeedsTheGradientOfOneSigmoid() =>
        AssertSeedIsGradient(CamTarget.Sigmoid(2), RandomOutput(4, 3), y => 1 / (1 + Math.Exp(-y[2])));

    [Fact]
    public void Binary_SeedsPlusOrMinusTheOneLogit()
    {
        AssertSeedIsGradient(CamTarget.Binary(), [0.7f], y => y[0]);
        AssertSeedIsGradient(CamTarget.Binary(positive: false), [0.7f], y => -y[0]);
        var error = Assert.Throws<ArgumentException>(() => CamTarget.Binary().Seed(0, new float[3], new float[3]));
        Assert.Contains("3 outputs", error.Message);
    }

    [Fact]
    public void Output_SeedsOneElement_AndRefusesAnIndexOutOfRange()
    {
        AssertSeedIsGradient(CamTarget.Output(4), RandomOutput(6, 4), y => y[4]);
        var error = Assert.Throws<ArgumentException>(() => CamTarget.Output(6).ClassFor(0, new float[6]));
        Assert.Equal("output: element 6 is out of range: the model's output has 6 values per image (0–5)", error.Message);
    }

    [Fact]
    public void Segmentation_SumsTheClassOverItsPredictedPixels()
    {
        // [3 classes, 2×3]: class 1 wins at pixels 0, 2 and 5 by construction.
        float[] output =
        [
            0, 5, 0, 5, 5, 0,
            9, 1, 9, 0, 0, 9,
            1, 2, 3, 1, 1, 1,
        ];
        var target = CamTarget.Segmentation(1, [3, 2, 3]);
        var seed = new float[output.Length];
        target.Seed(0, output, seed);
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0], seed);
    }

    [Fact]
    public void Segmentation_WithAMask_SumsOverTheMask_AndRefusesAMaskOfTheWrongSize()
    {
        float[] mask = [1, 0, 0.5f, 0, 1, 0];
        var output = RandomOutput(12, 5);
        AssertSeedIsGradient(CamTarget.Segmentation(1, [2, 2, 3], mask), output, y => Enumerable.Range(0, 6).Sum(p => mask[p] * y[6 + p]));
        var error = Assert.Throws<ArgumentException>(() => CamTarget.Segmentation(1, [2, 2, 3], new float[4]).Seed(0, output, new float[12]));
        Assert.Equal("segmentation: the mask has 4 pixels, the model's output maps are 2×3 (6)", error.Message);
        var classifier = Assert.Throws<ArgumentException>(() => CamTarget.Segmentation(0, [10]).ClassFor(0, new float[10]));
        Assert.Equal("segmentation needs an output [N, classes, H, W]; this model's output is [N, 10]", classifier.Message);
    }

    [Fact]
    public void Box_SumsObjectnessTimesClassScoreOverTheBoxesThatOverlap()
    {
        // Three boxes [cx, cy, w, h, obj, c0, c1]: the first two overlap (2, 2)–(6, 6) with IoU ≥ 0.5, the third does not.
        float[] output =
        [
            4, 4, 4, 4, 0.9f, 0.2f, 0.7f,
            4.2f, 4, 4, 4.4f, 0.6f, 0.8f, 0.1f,
            12, 12, 4, 4, 0.99f, 0.1f, 0.9f,
        ];
        // Each box's best class: box 0 → class 1, box 1 → class 0.
        AssertSeedIsGradient(CamTarget.Box(2, 2, 6, 6, null, [3, 7]), output, y => y[4] * y[6] + y[11] * y[12]);
        // A given class: class 1 of both.
        AssertSeedIsGradient(CamTarget.Box(2, 2, 6, 6, 1, [3, 7]), output, y => y[4] * y[6] + y[11] * y[13]);
        var none = Assert.Throws<ArgumentException>(() => CamTarget.Box(20, 0, 24, 4, null, [3, 7]).Seed(0, output, new float[21]));
        Assert.StartsWith("box 20,0,24,4: no predicted box overlaps it with IoU ≥ 0.5", none.Message);
        var classifier = Assert.Throws<ArgumentException>(() => CamTarget.Box(0, 0, 4, 4, null, [10]).ClassFor(0, new float[10]));
        Assert.Equal("box needs a detector's output [N, boxes, 4 + 1 + classes]; this model's output is [N, 10]", classifier.Message);
    }

    [Fact]
    public void Box_ReadsCornersInTheCornerLayout()
    {
        float[] output = [2, 2, 6, 6, 0.5f, 0.3f, 0.4f];
        AssertSeedIsGradient(CamTarget.Box(2, 2, 6, 6, 0, [1, 7], DetectorLayout.YoloCorners), output, y => y[4] * y[5]);
        Assert.Throws<ArgumentException>(() => CamTarget.Box(2, 2, 6, 6, 0, [1, 7], DetectorLayout.Yolo).Seed(0, output, new float[7]));
    }

    [Fact]
    public void Embedding_SeedsTheGradientOfTheCosineSimilarity()
    {
        var reference = RandomOutput(6, 6);
        static double Cosine(double[] y, float[] r) =>
            y.Zip(r, (a, b) => a * b).Sum() / (Math.Sqrt(y.Sum(a => a * a)) * Math.Sqrt(r.Sum(b => (double)b * b)));
        AssertSeedIsGradient(CamTarget.Embedding(reference), RandomOutput(6, 7), y => Cosine(y, reference));
        var error = Assert.Throws<ArgumentException>(() => CamTarget.Embedding(reference).ClassFor(0, new float[5]));
        Assert.Equal("embedding: the reference has 6 values, the model's output has 5 per image", error.Message);
    }
}

/// <summary>
/// Grad-CAM with each target on the tiny exported networks of Reference/targets/ (make_target_references.py), held
/// against PyTorch's Grad-CAM of the same scalar computed by autograd: Pearson r ≥ 0.99 and the values themselves.
/// </summary>
public sealed class TargetReferenceTests
{
    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Reference", "targets", file);

    private static readonly JsonElement Meta = JsonDocument.Parse(File.ReadAllText(PathOf("targets.json"))).RootElement;

    private static Tensor Input(string file = "input.npy")
    {
        var (data, shape) = Npy.Read(PathOf(file));
        return Tensor.FromArray(data, shape);
    }

    private static OnnxExplainable Model(string name) => new(OnnxModel.Load(PathOf($"{name}.onnx")), classNames: null);

    public static TheoryData<string, string> Cases() => new()
    {
        { "classifier", "class:3" }, { "classifier", "contrast:3,1" }, { "classifier", "softmax:3" }, { "classifier", "sigmoid:2" },
        { "classifier", "output:4" }, { "binary", "binary" }, { "binary", "binary:0" }, { "segmenter", "segmentation:1" },
        { "segmenter", "segmentation:2,mask" }, { "detector", "box" }, { "detector", "box:2" }, { "embedder", "embedding" },
    };

    private static CamTarget TargetFor(string model, string target, OnnxExplainable explainable)
    {
        var dims = explainable.OutputDims(3, 16, 16);
        var query = Meta.GetProperty("detector").GetProperty("query").EnumerateArray().Select(v => (float)v.GetInt32()).ToArray();
        return target switch
        {
            "class:3" => CamTarget.Class(3),
            "contrast:3,1" => CamTarget.Contrast(3, 1),
            "softmax:3" => CamTarget.Softmax(3),
            "sigmoid:2" => CamTarget.Sigmoid(2),
            "output:4" => CamTarget.Output(4),
            "binary" => CamTarget.Binary(),
            "binary:0" => CamTarget.Binary(positive: false),
            "segmentation:1" => CamTarget.Segmentation(1, dims),
            "segmentation:2,mask" => CamTarget.Segmentation(2, dims, Npy.Read(PathOf("segmenter.mask.npy")).Data),
            "box" => CamTarget.Box(query[0], query[1], query[2], query[3], null, dims),
            "box:2" => CamTarget.Box(query[0], query[1], query[2], query[3], 2, dims),
            "embedding" => CamTarget.Embedding(Npy.Read(PathOf("embedder.reference.npy")).Data),
            _ => throw new ArgumentException(target),
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradCam_WithTheTarget_MatchesPyTorchAutograd(string model, string target)
    {
        var explainable = Model(model);
        var explainer = new CamExplainer(explainable, NaiveKernels.Instance);
        var result = explainer.Explain(new GradCam(), Input(), TargetFor(model, target, explainable), "trunk");
        var expected = Npy.Read(PathOf(Meta.GetProperty("targets").GetProperty($"{model} {target}").GetString()!)).Data;
        var actual = result.MapOf(0).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        double r = Pearson(expected, actual);
        Assert.True(r >= 0.99, $"{model} {target}: Pearson r = {r:F5}");
        float scale = expected.Max();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-3f * scale + 1e-9f, $"{model} {target}: pixel {i}: PyTorch {expected[i]}, NanoCam {actual[i]}");
    }

    [Fact]
    public void OutputDims_AreTheGraphsOutputAfterTheBatchAxis()
    {
        Assert.Equal([5], Model("classifier").OutputDims(3, 16, 16));
        Assert.Equal([3, 16, 16], Model("segmenter").OutputDims(3, 16, 16));
        Assert.Equal([3, 32, 24], Model("segmenter").OutputDims(3, 32, 24));
        Assert.Equal([16, 8], Model("detector").OutputDims(3, 16, 16));
    }

    private static double Pearson(float[] a, float[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }
}
