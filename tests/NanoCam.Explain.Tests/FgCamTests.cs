using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Explain.Methods;
using NanoCam.Explain.Tests.Zoo;
using NanoCam.Imaging;
using NanoCam.Nn.Checkpoints;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
using NanoCam.Onnx;
using Xunit.Abstractions;

namespace NanoCam.Explain.Tests;

/// <summary>
/// FG-CAM (Qiu et al. 2023): the map of a small network recomputed by direct loops from the captured activations,
/// gradients and weights (Grad-CAM's components w_k A^k, the convolution's positive-contribution step, the max-pooling
/// winner, the z^B step at the image); its resolution; the base method and the denoising; the shipped shapes network
/// and SqueezeNet.
/// </summary>
public sealed class FgCamTests(ITestOutputHelper output)
{
    private static readonly SimdKernels Simd = new(threads: 2);

    /// <summary>conv 3×3 (pad 1) C→H, ReLU, max pool 2×2, conv 3×3 (pad 1) H→K, ReLU, GAP, FC; "features" is the last ReLU.</summary>
    private static GapCnn PooledTwoConv(int inputChannels, int hidden, int channels, int classes, int seed)
    {
        var rng = new Random(seed);
        var model = new GapCnn(new Sequential(
            new Conv2d(inputChannels, hidden, 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2),
            new Conv2d(hidden, channels, 3, padding: 1, rng: rng), new ReLU()), channels, classes, rng);
        TestNets.RandomizeBiases(model, seed + 2);
        return model;
    }

    [Fact]
    public void FgCam_EqualsTheLayerByLayerLoops_OnASmallNetworkWithPooling()
    {
        var model = PooledTwoConv(inputChannels: 2, hidden: 3, channels: 4, classes: 3, seed: 11);
        var explainer = TestNets.Explainer(model);
        var input = TestNets.Images(5, 2, 2, 8, 8);
        var target = CamTarget.TopPrediction();
        var result = new FgCam().Explain(explainer, input, target);

        // What the loops read: A and ∂y^c/∂A at the layer, the pooled hidden activations, the first ReLU's output, the weights.
        var top = explainer.Capture(input, "features", target, withGradients: true);
        var pooled = explainer.Capture(input, "features.2", target, withGradients: false);
        var hidden = explainer.Capture(input, "features.1", target, withGradients: false);
        var convs = model.Modules().OfType<Conv2d>().ToArray();
        var (w1, w2) = (convs[0].Weight.Value.ToArray(), convs[1].Weight.Value.ToArray());
        var image = input.ToArray();
        Assert.Equal(top.TargetClasses, result.TargetClasses);

        for (int n = 0; n < 2; n++)
        {
            // Grad-CAM components I^k = (1/Z Σ_ij ∂y^c/∂A^k_ij) · A^k, at 4×4.
            int k2 = top.Channels, plane = top.Plane;
            var components = new double[k2 * plane];
            for (int k = 0; k < k2; k++)
            {
                double alpha = top.GradientPlane(n, k).ToArray().Sum(g => (double)g) / plane;
                var a = top.ActivationPlane(n, k);
                for (int p = 0; p < plane; p++) components[k * plane + p] = alpha * a[p];
            }
            // ReLU: unchanged. conv2 (3×3, pad 1) on the pooled map x [3, 4, 4]: positive contributions only.
            var x = Slice(pooled.Activations, n, pooled.Channels * pooled.Plane);
            var atPooled = ContributionLoop(x, pooled.Channels, 4, 4, w2, k2, components, bounds: null);
            // Max pool 2×2: each window's relevance to the cell of its maximum (when positive).
            var h = Slice(hidden.Activations, n, hidden.Channels * hidden.Plane);
            var atHidden = new double[h.Length];
            for (int c = 0; c < hidden.Channels; c++)
                for (int oy = 0; oy < 4; oy++)
                    for (int ox = 0; ox < 4; ox++)
                    {
                        int best = -1;
                        double max = 0;
                        for (int dy = 0; dy < 2; dy++)
                            for (int dx = 0; dx < 2; dx++)
                            {
                                int i = c * 64 + (2 * oy + dy) * 8 + 2 * ox + dx;
                                if (h[i] > max) (best, max) = (i, h[i]);
                            }
                        if (best >= 0) atHidden[best] += atPooled[c * 16 + oy * 4 + ox];
                    }
            // ReLU: unchanged. conv1 at the image: the z^B rule with the image's least and greatest values.
            var pixels = Slice(image, n, 2 * 64);
            var atImage = ContributionLoop(pixels, 2, 8, 8, w1, hidden.Channels, atHidden, bounds: (pixels.Min(), pixels.Max()));

            var values = result.Of(n);
            for (int i = 0; i < atImage.Length; i++)
                Assert.True(Math.Abs(values[i] - atImage[i]) <= 1e-4 * (1 + Math.Abs(atImage[i])), $"image {n}, input value {i}: {values[i]} vs the loops' {atImage[i]}");
            // The map: ReLU of the channel sum.
            var map = new FgCam().MapOf(result, n);
            for (int p = 0; p < 64; p++)
                Assert.Equal(Math.Max(atImage[p] + atImage[64 + p], 0), map[p], 4);
            Assert.Contains(map, v => v > 0);
        }
    }

    [Fact]
    public void FgCam_SharesTheComponentsOfAResidualSum_ByThePositivePartsOfItsTwoInputs()
    {
        // conv 3×3 2→3, ReLU, residual block 3→3 (conv, BN, ReLU, conv, BN, + the block's input, ReLU), GAP, FC.
        var rng = new Random(21);
        var block = new ResidualBlock(3, 3, rng: rng);
        var model = new GapCnn(new Sequential(new Conv2d(2, 3, 3, padding: 1, rng: rng), new ReLU(), block), 3, 2, rng);
        foreach (var norm in new[] { block.Bn1, block.Bn2 })
            foreach (var parameter in new[] { norm.Weight.Value, norm.Bias.Value, norm.RunningMean.Value, norm.RunningVar.Value })
            {
                var span = parameter.Span;
                for (int i = 0; i < span.Length; i++) span[i] = 0.5f + (float)rng.NextDouble();
            }
        var explainer = TestNets.Explainer(model);
        var input = TestNets.Images(8, 1, 2, 6, 6);
        var target = CamTarget.Class(1);
        var result = new FgCam().Explain(explainer, input, target);

        var top = explainer.Capture(input, "features", target, withGradients: true);
        double[] Read(string layer) => Slice(explainer.Capture(input, layer, target, withGradients: false).Activations, 0, 3 * 36);
        var (skip, residual, inner) = (Read("features.1"), Read("features.2.bn2"), Read("features.2.bn1").Select(v => Math.Max(v, 0)).ToArray());
        var components = new double[3 * 36];
        for (int k = 0; k < 3; k++)
        {
            double alpha = top.GradientPlane(0, k).ToArray().Sum(g => (double)g) / 36;
            for (int p = 0; p < 36; p++) components[k * 36 + p] = alpha * top.ActivationPlane(0, k)[p];
        }
        // ReLU: unchanged. The sum BN₂(…) + skip: shares by the positive parts.
        var (toResidual, toSkip) = (new double[components.Length], new double[components.Length]);
        for (int i = 0; i < components.Length; i++)
        {
            double a = Math.Max(residual[i], 0), b = Math.Max(skip[i], 0);
            if (a + b == 0) continue;
            (toResidual[i], toSkip[i]) = (components[i] * a / (a + b), components[i] * b / (a + b));
        }
        // BN₂: unchanged; conv₂ on ReLU(BN₁(conv₁ x)); ReLU and BN₁: unchanged; conv₁ on the skip input; both paths meet there.
        var atInner = ContributionLoop(inner, 3, 6, 6, block.Conv2.Weight.Value.ToArray(), 3, toResidual, bounds: null);
        var atSkip = ContributionLoop(skip, 3, 6, 6, block.Conv1.Weight.Value.ToArray(), 3, atInner, bounds: null);
        for (int i = 0; i < atSkip.Length; i++) atSkip[i] += toSkip[i];
        var pixels = Slice(input.ToArray(), 0, 2 * 36);
        var first = model.Modules().OfType<Conv2d>().First();
        var atImage = ContributionLoop(pixels, 2, 6, 6, first.Weight.Value.ToArray(), 3, atSkip, bounds: (pixels.Min(), pixels.Max()));
        var values = result.Of(0);
        for (int i = 0; i < atImage.Length; i++)
            Assert.True(Math.Abs(values[i] - atImage[i]) <= 1e-4 * (1 + Math.Abs(atImage[i])), $"input value {i}: {values[i]} vs the loops' {atImage[i]}");
        Assert.Contains(toSkip, v => v != 0);
        Assert.Contains(toResidual, v => v != 0);
    }

    /// <summary>Image n's slice of a batch, as doubles.</summary>
    private static double[] Slice(float[] batch, int n, int size) => batch.AsSpan(n * size, size).ToArray().Select(v => (double)v).ToArray();

    /// <summary>
    /// The convolution step (3×3, pad 1, stride 1) by direct loops: contributions c_ij = x_i w_ij, kept when positive
    /// (without bounds), or c_ij = x_i w_ij − l w⁺_ij − h w⁻_ij (with bounds l, h); R_i = Σ_j c_ij R_j / Σ_i' c_i'j.
    /// </summary>
    private static double[] ContributionLoop(double[] x, int inChannels, int height, int width, float[] weight, int outChannels, double[] r, (double Low, double High)? bounds)
    {
        var result = new double[x.Length];
        for (int k = 0; k < outChannels; k++)
            for (int oy = 0; oy < height; oy++)
                for (int ox = 0; ox < width; ox++)
                {
                    var terms = new List<(int Index, double Contribution)>();
                    for (int c = 0; c < inChannels; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++)
                            {
                                int iy = oy + ky - 1, ix = ox + kx - 1;
                                if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                                int i = (c * height + iy) * width + ix;
                                double w = weight[((k * inChannels + c) * 3 + ky) * 3 + kx];
                                double contribution = bounds is { } b
                                    ? x[i] * w - b.Low * Math.Max(w, 0) - b.High * Math.Min(w, 0)
                                    : Math.Max(x[i] * w, 0);
                                terms.Add((i, contribution));
                            }
                    double z = terms.Sum(t => t.Contribution);
                    if (z == 0) continue;
                    double share = r[(k * height + oy) * width + ox] / z;
                    foreach (var (i, contribution) in terms) result[i] += contribution * share;
                }
        return result;
    }

    [Fact]
    public void FgCam_GivesAMapAtTheInputResolution_NotAnUpsampledCoarseOne()
    {
        var model = PooledTwoConv(inputChannels: 3, hidden: 6, channels: 8, classes: 4, seed: 3);
        var explainer = TestNets.Explainer(model);
        var input = TestNets.Images(9, 1, 3, 16, 16);
        var result = new FgCam().Explain(explainer, input, CamTarget.TopPrediction());
        Assert.Equal((1, 3, 16, 16), (result.Batch, result.Channels, result.Height, result.Width));
        var map = new FgCam().MapOf(result, 0);
        Assert.Equal(256, map.Length);
        // Grad-CAM's layer is 8×8: an upsampled map would vary smoothly inside each 2×2 cell; FG-CAM's picks pixels.
        int distinct = map.Select(v => MathF.Round(v, 6)).Distinct().Count();
        Assert.True(distinct > 64, $"only {distinct} distinct values in a 16×16 map from an 8×8 layer");
        // Not Grad-CAM's map upsampled: far from it, pixel by pixel.
        var gradCam = explainer.Explain(new GradCam(), input, CamTarget.TopPrediction()).NormalizedOf(0).ToArray();
        var normalized = new float[256];
        MapOps.MinMaxNormalize(map, normalized);
        double distance = normalized.Zip(gradCam).Average(p => Math.Abs(p.First - p.Second));
        Assert.True(distance > 0.05, $"the map is Grad-CAM's within {distance} per pixel");
    }

    [Fact]
    public void FgCam_DependsOnTheBaseMethod_AndRefusesAnUnknownBase()
    {
        var model = PooledTwoConv(inputChannels: 3, hidden: 6, channels: 8, classes: 4, seed: 4);
        var explainer = TestNets.Explainer(model);
        var input = TestNets.Images(2, 1, 3, 16, 16);
        var gradCam = new FgCam(baseMethod: "gradcam").Explain(explainer, input, CamTarget.Class(1)).Values;
        var gradCamPlusPlus = new FgCam(baseMethod: "gradcam++").Explain(explainer, input, CamTarget.Class(1)).Values;
        float difference = gradCam.Zip(gradCamPlusPlus).Max(p => MathF.Abs(p.First - p.Second));
        Assert.True(difference > 1e-3f * gradCam.Max(MathF.Abs), $"the base method does not change the relevance (max |Δ| = {difference})");
        // Through the settings, as the command line builds it.
        var viaSettings = InputAttributions.Create("fgcam", null, new InputAttributionSettings(FgBase: "gradcam++")).Explain(explainer, input, CamTarget.Class(1)).Values;
        Assert.Equal(gradCamPlusPlus, viaSettings);

        var error = Assert.Throws<ArgumentException>(() => new FgCam(baseMethod: "eigencam"));
        Assert.StartsWith("unknown FG-CAM base method 'eigencam'; accepted: gradcam, gradcam++, xgradcam, scorecam", error.Message);
    }

    [Fact]
    public void Denoising_KeepsTheLeadingSingularDirections_OfTheCentredComponents()
    {
        // M = 5·u₁v₁ᵀ + 2·u₂v₂ᵀ, the v orthonormal and orthogonal to 1 (so every row is already centred), plus a row mean.
        float[] u1 = [0.6f, 0.8f, 0f], u2 = [0f, 0f, 1f];
        float[] v1 = [0.5f, -0.5f, 0.5f, -0.5f], v2 = [0.5f, 0.5f, -0.5f, -0.5f];
        var m = new float[12];
        var rank1 = new float[12];
        for (int k = 0; k < 3; k++)
            for (int p = 0; p < 4; p++)
            {
                rank1[k * 4 + p] = 5 * u1[k] * v1[p];
                m[k * 4 + p] = rank1[k * 4 + p] + 2 * u2[k] * v2[p] + (k + 1);
            }
        var kept1 = (float[])m.Clone();
        FgCam.DenoiseComponents(kept1, 3, 4, kept: 1);
        TestNets.AssertClose(rank1, kept1, 1e-5f);
        // All of them: the centred matrix itself (the means are not added back).
        var all = (float[])m.Clone();
        FgCam.DenoiseComponents(all, 3, 4, kept: 3);
        for (int k = 0; k < 3; k++)
            for (int p = 0; p < 4; p++) Assert.Equal(m[k * 4 + p] - (k + 1), all[k * 4 + p], 4);
        // More channels than positions (the Gram matrix over positions): M = 5·a bᵀ + 2·c dᵀ + row means, 4 × 3.
        float r2 = MathF.Sqrt(2), r6 = MathF.Sqrt(6);
        float[] b = [1 / r2, -1 / r2, 0f], d = [1 / r6, 1 / r6, -2 / r6];
        var tall = new float[12];
        var tallRank1 = new float[12];
        for (int k = 0; k < 4; k++)
            for (int p = 0; p < 3; p++)
            {
                tallRank1[k * 3 + p] = 5 * v1[k] * b[p];
                tall[k * 3 + p] = tallRank1[k * 3 + p] + 2 * v2[k] * d[p] - k;
            }
        var tallAll = (float[])tall.Clone();
        FgCam.DenoiseComponents(tallAll, 4, 3, kept: 3);
        for (int k = 0; k < 4; k++)
            for (int p = 0; p < 3; p++) Assert.Equal(tall[k * 3 + p] + k, tallAll[k * 3 + p], 4);
        var tallKept1 = (float[])tall.Clone();
        FgCam.DenoiseComponents(tallKept1, 4, 3, kept: 1);
        TestNets.AssertClose(tallRank1, tallKept1, 1e-5f);
        Assert.Equal(1, FgCam.KeptSingularValues(8, 64));
        Assert.Equal(6, FgCam.KeptSingularValues(64, 64));
    }

    private static (CamExplainer Explainer, Tensor Images) ShapesNet(int count)
    {
        string checkpoint = RepositoryFiles.PathOf("weights/shapes-vgg.safetensors");
        var metadata = ModelMetadata.Load(ModelMetadata.PathFor(checkpoint));
        var network = Architectures.Create(metadata.Architecture, metadata.InputChannels, metadata.Classes.Length, metadata.Seed);
        Checkpoint.Load(network, checkpoint);
        var shapes = new ShapesDataset(count: count, seed: 2);
        int size = shapes.ImageSize, plane = shapes.Height * shapes.Width;
        var pixels = new float[count * size];
        for (int n = 0; n < count; n++)
        {
            var image = shapes.GetImage(n);
            for (int c = 0; c < shapes.Channels; c++)
                for (int p = 0; p < plane; p++)
                    pixels[n * size + c * plane + p] = (image[c * plane + p] - metadata.Mean[c]) / metadata.Std[c];
        }
        return (new CamExplainer(new ModuleExplainable(network, metadata.Classes), Simd), Tensor.FromArray(pixels, count, shapes.Channels, shapes.Height, shapes.Width));
    }

    [Fact]
    public void FgCam_OnTheShippedShapesNet_ExplainsAtTheInputResolution_WithAndWithoutDenoising()
    {
        var (explainer, images) = ShapesNet(2);
        foreach (var method in new[] { new FgCam(), new FgCam(denoise: true), new FgCam(baseMethod: "gradcam++") })
        {
            var result = method.Explain(explainer, images, CamTarget.TopPrediction());
            Assert.Equal((2, 3, 64, 64), (result.Batch, result.Channels, result.Height, result.Width));
            for (int n = 0; n < 2; n++)
            {
                var map = method.MapOf(result, n);
                int positive = map.Count(v => v > 0);
                output.WriteLine($"{method.Name} ({method.Base}) image {n}: {positive} of 4096 pixels positive, TV {TotalVariation(map, 64, 64):F3}");
                Assert.True(positive > 20, $"{method.Name}: only {positive} pixels carry relevance");
            }
        }
    }

    [Fact]
    public void FgCam_OnSqueezeNet_ExplainsBothPng_AtTheInputResolution()
    {
        var explainer = new CamExplainer(SqueezeNet(), Simd);
        var input = SqueezeNetInput("both.png");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var method = new FgCam();
        var result = method.Explain(explainer, input, CamTarget.TopPrediction());
        output.WriteLine($"fgcam on SqueezeNet: {clock.ElapsedMilliseconds} ms");
        Assert.Equal((1, 3, 224, 224), (result.Batch, result.Channels, result.Height, result.Width));
        var map = method.MapOf(result, 0);
        var gradCam = explainer.Explain(new GradCam(), input, CamTarget.TopPrediction()).NormalizedOf(0).ToArray();
        output.WriteLine($"class {result.TargetClasses[0]}: {map.Count(v => v > 0)} positive pixels, TV fgcam {TotalVariation(Normalized(map), 224, 224):F1}, gradcam {TotalVariation(gradCam, 224, 224):F1}");
        Assert.True(map.Count(v => v > 0) > 500);
        // The relevance lies where Grad-CAM looks: its share inside Grad-CAM's upper half exceeds that region's share of the image.
        var hot = gradCam.Select(v => v >= 0.5f).ToArray();
        double inside = map.Where((v, p) => hot[p]).Sum(v => (double)v) / map.Sum(v => (double)v), area = hot.Count(h => h) / (224.0 * 224);
        output.WriteLine($"relevance inside Grad-CAM ≥ 0.5: {inside:P1} on {area:P1} of the image");
        Assert.True(inside > area, $"{inside:P1} of the relevance lies on the {area:P1} of the image where Grad-CAM is ≥ 0.5");
    }

    /// <summary>One method's averages over a set of images: the RISE curves' areas, the detail of the map, and where its maximum and mass lie.</summary>
    private sealed record Scores(string Method, double Deletion, double Insertion, double VariationPerMass, double? PointingInBox, double? PointingOnShape,
        double? PointingNearShape, double? MassOnShape)
    {
        private static string Show(double? value, string format) => value is { } v ? v.ToString(format, System.Globalization.CultureInfo.InvariantCulture) : "–";

        public override string ToString() => $"| {Method} | {Deletion:F3} | {Insertion:F3} | {VariationPerMass:F2} | {Show(PointingInBox, "F0")} | "
            + $"{Show(PointingOnShape, "F0")} | {Show(PointingNearShape, "F0")} | {Show(MassOnShape, "F3")} |";
    }

    /// <summary>
    /// Deletion and insertion AUC (32 steps); the detail of the map, its total variation over its mass, Σ(|∂x m| + |∂y m|) / Σ m
    /// (scale-free: a map upsampled from a coarse layer varies little from pixel to pixel); with the objects' boxes and
    /// masks (coverage in [0, 1] per pixel), the pointing game at tolerance 0 — the map's maximum inside the box, on a
    /// pixel the object covers at least half, or within 1 px of one — and the share of the map's mass on the object,
    /// Σ m·coverage / Σ m.
    /// </summary>
    private static Scores Measure(string method, CamExplainer explainer, Tensor images, (Explain.Metrics.Box Box, float[] Coverage)[]? objects)
    {
        int count = images.Shape[0], channels = images.Shape[1], height = images.Shape[2], width = images.Shape[3], plane = height * width;
        var target = CamTarget.TopPrediction();
        float[] maps;
        int[] classes;
        if (CamMethods.Names.Contains(method))
        {
            var result = explainer.Explain(CamMethods.Create(method), images, target);
            (maps, classes) = (result.Normalized, result.Capture.TargetClasses);
        }
        else
        {
            // "fgcam" or "fgcam-denoise", optionally ":BASE"
            var parts = method.Split(':');
            var fg = (FgCam)InputAttributions.Create(parts[0], null, new InputAttributionSettings(FgBase: parts.Length > 1 ? parts[1] : FgCam.DefaultBase));
            var result = fg.Explain(explainer, images, target);
            (maps, classes) = (new float[count * plane], result.TargetClasses);
            for (int n = 0; n < count; n++) MapOps.MinMaxNormalize(fg.MapOf(result, n), maps.AsSpan(n * plane, plane));
        }
        var classifier = new Explain.Metrics.ModelClassifier(explainer, channels, height, width);
        var pixels = images.ToArray();
        double deletion = 0, insertion = 0, variation = 0, inBox = 0, onShape = 0, nearShape = 0, mass = 0;
        for (int n = 0; n < count; n++)
        {
            var map = maps.AsSpan(n * plane, plane).ToArray();
            var (d, i) = Explain.Metrics.DeletionInsertion.Curves(classifier, pixels.AsSpan(n * channels * plane, channels * plane).ToArray(), channels, height, width, map, classes[n], 32);
            (deletion, insertion) = (deletion + d.Auc, insertion + i.Auc);
            double total = map.Sum(v => (double)v);
            variation += TotalVariation(map, height, width) / total;
            if (objects is null) continue;
            var (box, coverage) = objects[n];
            var (px, py) = Explain.Metrics.PointingGame.MaximumPoint(map, height, width);
            if (Explain.Metrics.PointingGame.IsHit((px, py), box, 0)) inBox++;
            if (coverage[py * width + px] >= 0.5f) onShape++;
            bool near = false;
            for (int y = Math.Max(0, py - 1); y <= Math.Min(height - 1, py + 1); y++)
                for (int x = Math.Max(0, px - 1); x <= Math.Min(width - 1, px + 1); x++) near |= coverage[y * width + x] >= 0.5f;
            if (near) nearShape++;
            mass += map.Zip(coverage).Sum(p => (double)p.First * p.Second) / total;
        }
        double? Percent(double hits) => objects is null ? null : 100 * hits / count;
        return new Scores(method, deletion / count, insertion / count, variation / count, Percent(inBox), Percent(onShape), Percent(nearShape),
            objects is null ? null : mass / count);
    }

    private const string TableHead = "| method | deletion AUC ↓ | insertion AUC ↑ | TV / mass ↑ | max in box % | max on shape % | max ≤ 1 px from shape % | mass on shape |";

    [Fact]
    public void FgCam_OnTheShapesNet_HasMoreDetail_AtEqualOrBetterDeletionAndInsertion()
    {
        const int count = 20;
        var (explainer, images) = ShapesNet(count);
        var shapes = new ShapesDataset(count: count, seed: 2);
        var objects = Enumerable.Range(0, count).Select(n =>
        {
            var coverage = new float[64 * 64];
            shapes.GetMask(n, coverage);
            var box = shapes.GetBox(n) ?? throw new InvalidDataException($"shapes image {n} has no box");
            return (new Explain.Metrics.Box(box.X0, box.Y0, box.X1 + 1, box.Y1 + 1), coverage);
        }).ToArray();
        var scores = new[] { "gradcam", "fgcam", "fgcam-denoise", "gradcam++", "fgcam:gradcam++", "fgcam-denoise:gradcam++" }
            .Select(m => Measure(m, explainer, images, objects)).ToDictionary(s => s.Method);
        output.WriteLine($"shapes-vgg, the first {count} test images, top prediction");
        output.WriteLine(TableHead);
        foreach (var s in scores.Values) output.WriteLine(s.ToString());
        foreach (var (coarse, fine) in new[] { ("gradcam", "fgcam"), ("gradcam++", "fgcam:gradcam++") })
        {
            Assert.True(scores[fine].VariationPerMass > 2 * scores[coarse].VariationPerMass, $"{fine}'s map is not finer than {coarse}'s");
            Assert.True(scores[fine].Deletion <= scores[coarse].Deletion && scores[fine].Insertion >= scores[coarse].Insertion,
                $"{fine} is less faithful than {coarse} by deletion or insertion");
        }
    }

    private static OnnxExplainable SqueezeNet() => new(OnnxModel.Load(ZooModel.PathOf(Path.Combine("..", "SqueezeNet_fp32_from_fp16.onnx"))), null);

    /// <summary>Shared images resized to 224×224 as the Caffe2 SqueezeNet takes them: BGR values in [0, 255], neither centred nor scaled.</summary>
    private static Tensor SqueezeNetInput(params string[] files)
    {
        const int plane = 224 * 224;
        var values = new float[files.Length * 3 * plane];
        var pixels = new float[3 * plane];
        for (int n = 0; n < files.Length; n++)
        {
            Resize.Bilinear(ImageCodec.Load(Path.Combine(ZooModel.PathOf(Path.Combine("..", "..")), "images", files[n])), 224, 224).ToPlanar(pixels);
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < plane; p++) values[(n * 3 + c) * plane + p] = 255f * pixels[(2 - c) * plane + p];
        }
        return Tensor.FromArray(values, files.Length, 3, 224, 224);
    }

    [Fact]
    public void FgCam_OnSqueezeNet_HasMoreDetail_AtEqualOrBetterDeletionAndInsertion()
    {
        var explainer = new CamExplainer(SqueezeNet(), Simd);
        string[] files = ["both.png", "cam_test.jpg", "dog_cat.jpg", "fish.png", "kitten_224.png"];
        var images = SqueezeNetInput(files);
        var scores = new[] { "gradcam", "fgcam", "fgcam-denoise" }.Select(m => Measure(m, explainer, images, null)).ToDictionary(s => s.Method);
        output.WriteLine($"SqueezeNet 1.1 at conv10_2, {string.Join(", ", files)}, top prediction");
        output.WriteLine(TableHead);
        foreach (var s in scores.Values) output.WriteLine(s.ToString());
        var (gradCam, fgCam) = (scores["gradcam"], scores["fgcam"]);
        Assert.True(fgCam.VariationPerMass > 2 * gradCam.VariationPerMass, "FG-CAM's map is not finer than Grad-CAM's");
        Assert.True(fgCam.Deletion <= gradCam.Deletion && fgCam.Insertion >= gradCam.Insertion, "FG-CAM is less faithful than Grad-CAM by deletion or insertion");
    }

    private static float[] Normalized(float[] map)
    {
        var result = new float[map.Length];
        MapOps.MinMaxNormalize(map, result);
        return result;
    }

    /// <summary>Σ |m(y, x+1) − m(y, x)| + |m(y+1, x) − m(y, x)|.</summary>
    internal static double TotalVariation(float[] map, int height, int width)
    {
        double total = 0;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                if (x + 1 < width) total += Math.Abs(map[y * width + x + 1] - map[y * width + x]);
                if (y + 1 < height) total += Math.Abs(map[(y + 1) * width + x] - map[y * width + x]);
            }
        return total;
    }
}
