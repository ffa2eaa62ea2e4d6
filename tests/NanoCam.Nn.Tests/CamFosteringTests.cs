using NanoCam.Autodiff;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Nn.Models;
using NanoCam.Nn.Optim;
using NanoCam.Nn.Training;

namespace NanoCam.Nn.Tests;

public class CamFosteringTests
{
    // The entropy term computed with plain loops from the feature map and the classifier weights, in double precision.
    private static double DirectMeanEntropy(float[] features, float[] weights, float[] labels, int n, int channels, int plane)
    {
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            int c = (int)labels[i];
            var positive = new double[plane];
            double mass = 0;
            for (int xy = 0; xy < plane; xy++)
            {
                double m = 0;
                for (int k = 0; k < channels; k++) m += weights[c * channels + k] * (double)features[(i * channels + k) * plane + xy];
                positive[xy] = Math.Max(0, m);
                mass += positive[xy];
            }
            for (int xy = 0; xy < plane; xy++)
            {
                double p = positive[xy] / (mass + CamFostering.Epsilon);
                total -= p * Math.Log(p + CamFostering.Epsilon);
            }
        }
        return total / n;
    }

    private static float Term(GapCnn model, IKernels kernels, Tensor images, Tensor labels, string layer = GapCnn.FeatureLayer)
    {
        var tape = new Tape(kernels) { GradEnabled = false };
        model.Call(tape, images);
        return new CamFostering(model, 1f, layer).MeanEntropy(tape, labels).ToArray()[0];
    }

    [Fact]
    public void MeanEntropy_EqualsADirectLoopOverTheTrueClassMaps()
    {
        var kernels = NaiveKernels.Instance;
        var model = TrainingTests.QuadrantNet(5);
        var (images, labels) = TrainingTests.Quadrants(6, 3);
        var tape = new Tape(kernels) { GradEnabled = false };
        model.Call(tape, images);
        var features = tape.Find(GapCnn.FeatureLayer);
        float term = new CamFostering(model, 1f).MeanEntropy(tape, labels).ToArray()[0];
        int plane = features.Shape[2] * features.Shape[3];
        double expected = DirectMeanEntropy(features.ToArray(), model.Classifier.Weight.Value.ToArray(), labels.ToArray(), 6, model.FeatureChannels, plane);
        Assert.True(expected > 0.5 && expected < Math.Log(plane), $"entropy {expected} of a {plane}-cell map");
        Assert.Equal(expected, term, 4);
    }

    [Fact]
    public void EntropyGradient_MatchesCentralFiniteDifferences_ForConvAndClassifierWeights()
    {
        var kernels = NaiveKernels.Instance;
        var model = TrainingTests.QuadrantNet(7);
        var (images, labels) = TrainingTests.Quadrants(4, 8);
        var tape = new Tape(kernels);
        model.Call(tape, images);
        tape.Backward(new CamFostering(model, 1f).MeanEntropy(tape, labels));
        var checkedParameters = model.NamedParameters().Where(p => p.Parameter.Trainable).ToList();
        int compared = 0;
        foreach (var (name, value, j, analytic) in ParameterChecks.SampledElements(checkedParameters, 5))
        {
            double numeric = ParameterChecks.CentralDifference(value, j, 1e-3f, () => Term(model, kernels, images, labels));
            Assert.True(Math.Abs(numeric - analytic) <= 2e-3 + 0.05 * Math.Abs(numeric),
                $"{name}[{j}]: backward {analytic}, finite difference {numeric}");
            compared++;
        }
        Assert.True(compared >= 30, $"only {compared} gradient elements compared");
        Assert.Contains(checkedParameters, p => p.Parameter.Value.Grad!.ToArray().Any(g => MathF.Abs(g) > 1e-3f));
    }

    [Fact]
    public void MeanEntropy_RefusesAnUnknownLayer_ListingTheCandidates()
    {
        var model = TrainingTests.QuadrantNet(5);
        var (images, labels) = TrainingTests.Quadrants(2, 3);
        var e = Assert.Throws<ArgumentException>(() => Term(model, NaiveKernels.Instance, images, labels, "features.1"));
        Assert.Contains("candidates: ", e.Message);
        Assert.Contains("features", e.Message);
        Assert.DoesNotContain("features.1,", e.Message); // 8 channels, not the classifier's 16
    }

    [Fact]
    public void FosteredTrainingStep_LowersTheMapEntropy_AndStillLearns()
    {
        float Train(float lambda, out int correct)
        {
            var kernels = new SimdKernels(threads: 1);
            var model = TrainingTests.QuadrantNet(3);
            var (images, labels) = TrainingTests.Quadrants(256, 1);
            var step = new TrainingStep(model, new Adam(kernels, model.TrainableParameters(), 3e-3f), kernels, fostering: new CamFostering(model, lambda));
            correct = 0;
            for (int epoch = 0; epoch < 40; epoch++) correct = step.Run(images, labels).Correct;
            return step.LastMeanEntropy;
        }
        float plain = Train(0f, out int plainCorrect), fostered = Train(0.02f, out int fosteredCorrect);
        Assert.True(fostered < 0.95f * plain, $"mean map entropy: plain {plain}, fostered {fostered}");
        Assert.True(fosteredCorrect > 0.8 * 256 && plainCorrect > 0.8 * 256, $"train accuracy: plain {plainCorrect}/256, fostered {fosteredCorrect}/256 (entropy {plain} vs {fostered})");
    }

    [Fact]
    public void SteadyFosteredTrainingStep_AllocatesNothing()
    {
        var kernels = new SimdKernels(threads: 1);
        var model = Architectures.Create("gapcnn", 1, 4, seed: 1);
        var (images, labels) = TrainingTests.Quadrants(8, 5);
        var step = new TrainingStep(model, new Sgd(kernels, model.TrainableParameters(), 0.01f), kernels, fostering: new CamFostering(model, 0.1f));
        Assert.Equal(0, ParameterChecks.SteadyStepBytes(step, images, labels));
        Assert.True(step.LastMeanEntropy > 0);
    }

    [Fact]
    public void NaNInTheFosteringTerm_StopsTrainingWithAClearMessage_WhileTheCrossEntropyIsFinite()
    {
        // A 1×1 conv passing the image through to channel 0, and a classifier weight of 100 on it for class 0: one pixel of
        // 1e37 gives the map the value 1e39 = ∞ in float (so p = ∞/∞ = NaN), while the pooled score 100·1e37/16 stays finite.
        var rng = new Random(1);
        var model = new GapCnn(new Modules.Sequential(new Modules.Conv2d(1, 2, 1, rng: rng)), 2, 2, rng);
        foreach (var (_, parameter) in model.NamedParameters()) parameter.Value.Span.Clear();
        model.Features.NamedParameters().First(p => p.Parameter.Value.Size == 2 && p.Parameter.Value.Shape.Rank == 4).Parameter.Value.Span[0] = 1f;
        model.Classifier.Weight.Value.Span[0] = 100f;
        var images = Tensor.Zeros(1, 1, 4, 4);
        images.Span[5] = 1e37f;
        var labels = Tensor.Zeros(1);
        var kernels = new SimdKernels(threads: 1);
        var step = new TrainingStep(model, new Sgd(kernels, model.TrainableParameters(), 0.01f), kernels, fostering: new CamFostering(model, 0.1f));
        var e = Assert.Throws<TrainingDivergedException>(() => step.Run(images, labels));
        Assert.Equal("the CAM fostering term became NaN at optimizer step 1", e.Message);
    }
}
