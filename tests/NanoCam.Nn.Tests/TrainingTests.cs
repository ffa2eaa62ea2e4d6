using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
using NanoCam.Nn.Optim;
using NanoCam.Nn.Training;

namespace NanoCam.Nn.Tests;

public class TrainingTests
{
    /// <summary>
    /// A synthetic task: 12×12 single-channel images, one bright 3×3 blob on noise; the class is the quadrant of the blob.
    /// A GAP network must learn where things are — exactly what CAM later reads out.
    /// </summary>
    internal static (Tensor Images, Tensor Labels) Quadrants(int count, int seed)
    {
        var rng = new Random(seed);
        var images = Tensor.Zeros(count, 1, 12, 12);
        var labels = Tensor.Zeros(count);
        var x = images.Span;
        for (int n = 0; n < count; n++)
        {
            int cls = rng.Next(4);
            int top = (cls / 2) * 6 + rng.Next(4), left = (cls % 2) * 6 + rng.Next(4);
            for (int i = 0; i < 144; i++) x[n * 144 + i] = (float)rng.NextDouble() * 0.3f;
            for (int dy = 0; dy < 3; dy++)
            for (int dx = 0; dx < 3; dx++)
                x[n * 144 + (top + dy) * 12 + left + dx] = 1f;
            labels.Span[n] = cls;
        }
        return (images, labels);
    }

    internal static GapCnn QuadrantNet(int seed)
    {
        var rng = new Random(seed);
        // No pooling: the position of the blob must survive to the feature map for the classifier to see it;
        // padding 0 makes the border visible to the convolutions.
        return new GapCnn(new Sequential(new Conv2d(1, 8, 3, rng: rng), new ReLU(), new Conv2d(8, 16, 3, stride: 2, rng: rng), new ReLU(),
            new Conv2d(16, 16, 3, padding: 1, rng: rng), new ReLU()), 16, 4, rng);
    }

    [Fact]
    public void SmallGapCnn_LearnsASyntheticTask_Above95Percent()
    {
        var kernels = new SimdKernels(threads: 2);
        var model = QuadrantNet(3);
        var (images, labels) = Quadrants(512, 1);
        var optimizer = new Adam(kernels, model.TrainableParameters(), 3e-3f);
        var step = new TrainingStep(model, optimizer, kernels);
        for (int epoch = 0; epoch < 25; epoch++) step.Run(images, labels);
        var (testImages, testLabels) = Quadrants(400, 2);
        var tape = new Autodiff.Tape(kernels) { GradEnabled = false };
        var scores = model.Call(tape, testImages).ToArray();
        int correct = Metrics.CountCorrect(scores, testLabels.ToArray(), 400, 4);
        Assert.True(correct > 0.95 * 400, $"test accuracy {correct / 4.0:F1}%");
    }

    [Fact]
    public void OneThread_TwoRunsAreBitIdentical_AndNaiveAgrees()
    {
        float[] Train(IKernels kernels)
        {
            var model = Architectures.Create("resnet", 1, 4, seed: 9);
            var (images, labels) = Quadrants(16, 4);
            var step = new TrainingStep(model, new Sgd(kernels, model.TrainableParameters(), 0.05f, 0.9f, 1e-4f), kernels, seed: 7);
            for (int i = 0; i < 3; i++) step.Run(images, labels);
            return model.NamedParameters().SelectMany(p => p.Parameter.Value.ToArray()).ToArray();
        }
        var first = Train(new SimdKernels(threads: 1));
        var second = Train(new SimdKernels(threads: 1));
        Assert.Equal(first, second);
        var reference = Train(NaiveKernels.Instance);
        for (int i = 0; i < first.Length; i++) Assert.True(MathF.Abs(first[i] - reference[i]) < 1e-3f, $"parameter element {i}: simd {first[i]}, naive {reference[i]}");
    }

    [Fact]
    public void SteadyTrainingStep_AllocatesNothing()
    {
        var kernels = new SimdKernels(threads: 1);
        var model = Architectures.Create("gapcnn", 1, 4, seed: 1);
        var (images, labels) = Quadrants(8, 5);
        var step = new TrainingStep(model, new Sgd(kernels, model.TrainableParameters(), 0.01f), kernels);
        Assert.Equal(0, ParameterChecks.SteadyStepBytes(step, images, labels));
    }

    [Fact]
    public void NaNInTheInput_StopsTrainingWithAClearMessage()
    {
        var kernels = new SimdKernels(threads: 1);
        var model = QuadrantNet(1);
        var (images, labels) = Quadrants(4, 6);
        images.Span[5] = float.NaN;
        var step = new TrainingStep(model, new Sgd(kernels, model.TrainableParameters(), 0.01f), kernels);
        var e = Assert.Throws<TrainingDivergedException>(() => step.Run(images, labels));
        Assert.Contains("NaN", e.Message);
    }

    [Fact]
    public void LearningRateSchedules_FollowTheirFormulas()
    {
        Assert.Equal(0.1f, LearningRateSchedule.Parse("step", 1f, 30).At(10.5), 5);
        var cosine = LearningRateSchedule.Parse("cosine", 1f, 10);
        Assert.Equal(1f, cosine.At(0), 5);
        Assert.Equal(0.5f, cosine.At(5), 5);
        Assert.Equal(0f, cosine.At(10), 5);
    }
}
