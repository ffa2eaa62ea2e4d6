using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
using NanoCam.Nn.Optim;
using NanoCam.Nn.Training;

namespace NanoCam.Explain.Tests.Dense;

/// <summary>A dense-output network trained on the shapes data set's masks, and the losses of its steps.</summary>
public sealed record TrainedDense(Module Model, float[] Mean, float[] Std, List<float> Losses);

/// <summary>Trains seg-fcn and det-grid on the shapes training images (seed 1) with Adam, as <c>nanocam train</c> does.</summary>
public static class ShapesDenseTraining
{
    public const int Batch = 32;

    public static TrainedDense Train(string architecture, int steps, int images, float learningRate = 3e-3f, int seed = 1)
    {
        var data = new ShapesDataset(images, DataSpec.ShapesTrainSeed);
        var (mean, std) = DatasetStatistics.MeanStd(data, 256);
        var model = Architectures.CreateNetwork(architecture, data.Channels, data.ClassNames.Count, seed);
        var kernels = new SimdKernels();
        var optimizer = new Adam(kernels, model.TrainableParameters(), learningRate);
        var objective = DenseObjective.For(model, data.GetMask, data.Height, data.Width)!;
        var step = new TrainingStep(model, optimizer, kernels, (ulong)seed, objective: objective);
        var loader = new DataLoader(data, Batch, new DataLoaderOptions { Seed = seed, Mean = mean, Std = std, DropLast = true });
        var losses = new List<float>();
        for (int epoch = 0; losses.Count < steps; epoch++)
            foreach (var batch in loader.Epoch(epoch))
            {
                losses.Add(step.Run(batch.Images, batch.Labels, batch.Indices).Loss);
                if (losses.Count == steps) break;
            }
        return new TrainedDense(model, mean, std, losses);
    }

    /// <summary>Test images (seed 2) normalized as in training: [count, 3, 64, 64], their labels and masks [count, 64·64].</summary>
    public static (Tensor Images, int[] Labels, float[] Masks) TestImages(TrainedDense trained, int count)
    {
        var data = new ShapesDataset(count, DataSpec.ShapesTestSeed);
        int plane = data.Height * data.Width;
        var images = new float[count * data.ImageSize];
        var masks = new float[count * plane];
        for (int i = 0; i < count; i++)
        {
            var image = images.AsSpan(i * data.ImageSize, data.ImageSize);
            data.GetImage(i, image);
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < plane; p++) image[c * plane + p] = (image[c * plane + p] - trained.Mean[c]) / trained.Std[c];
            data.GetMask(i, masks.AsSpan(i * plane, plane));
        }
        return (Tensor.FromArray(images, count, 3, data.Height, data.Width), [.. Enumerable.Range(0, count).Select(data.GetLabel)], masks);
    }

    /// <summary>The model's output on <paramref name="images"/> in evaluation mode (BatchNorm's running statistics).</summary>
    public static float[] Outputs(Module model, Tensor images)
    {
        var tape = new NanoCam.Autodiff.Tape(new SimdKernels()) { GradEnabled = false };
        return model.Call(tape, images).ToArray();
    }
}
