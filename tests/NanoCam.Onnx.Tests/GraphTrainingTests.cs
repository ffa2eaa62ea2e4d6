using NanoCam.Autodiff;
using NanoCam.Cpu.Simd;
using NanoCam.Data;
using NanoCam.Ops;
using NanoCam.Onnx.Training;
using Xunit.Abstractions;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// Fine-tuning an imported graph (Reference/tiny_shapes_cnn.onnx, exported by PyTorch: make_tiny_shapes_cnn.py): the
/// loss falls on the shapes data, the checkpoint round-trips, the export runs in ONNX Runtime to NanoCam's logits,
/// frozen parameters stay put, and batch norm's running statistics follow the update rule worked by hand.
/// </summary>
public sealed class GraphTrainingTests(ITestOutputHelper output)
{
    private static readonly string ModelPath = Path.Combine(AppContext.BaseDirectory, "Reference", "tiny_shapes_cnn.onnx");
    private const string BatchNormInput = "/features/features.5/Relu_output_0";

    private static OnnxModel Load() => OnnxModel.Load(ModelPath);

    /// <summary>Mean cross-entropy of the graph on a fixed normalized batch, without gradients (running statistics).</summary>
    private static float EvalLoss(OnnxModel model, Tensor images, Tensor labels)
    {
        var tape = new Tape(new SimdKernels(1)) { GradEnabled = false };
        return tape.CrossEntropy(model.Scores(tape, images), labels).ToArray()[0];
    }

    private static Batch FirstBatch(Dataset data, GraphTrainer trainer, int size) =>
        new DataLoader(data, size, DataLoaderOptions.Evaluation with { Mean = [.. trainer.Mean], Std = [.. trainer.Std] }).GetBatch(0, 0);

    [Fact]
    public void FineTuning_LowersTheLoss_AndTheExportRunsInOnnxRuntimeToTheSameLogits()
    {
        using var folder = new TempFolder();
        var model = Load();
        var train = new ShapesDataset(256, seed: 1);
        var checkpoint = Path.Combine(folder.Path, "tuned.safetensors");
        var trainer = new GraphTrainer(model, train, new GraphTrainingOptions
        {
            Epochs = 6, BatchSize = 32, LearningRate = 1e-2f, Output = checkpoint, DataSpec = "shapes:256",
        }, new SimdKernels(1));
        var probe = FirstBatch(train, trainer, 64);
        float before = EvalLoss(model, probe.Images, probe.Labels);
        var history = trainer.Run();
        float after = EvalLoss(model, probe.Images, probe.Labels);
        output.WriteLine($"eval loss on 64 training images: {before:F4} → {after:F4}; epoch losses {string.Join(", ", history.Select(h => h.Loss.ToString("F4")))}; {trainer.Steps} steps");
        Assert.True(after < 0.95f * before, $"loss {before} → {after}");
        Assert.True(history[^1].Loss < history[0].Loss, "the epoch loss did not fall");

        // The best epoch (by training accuracy; no validation) is on disk; reload it and export it.
        var (reloaded, info) = GraphCheckpoint.Load(checkpoint);
        Assert.Equal(ShapesDataset.ShapeNames, info.Classes);
        Assert.Equal(3, info.Mean.Length);
        Assert.Equal(model.Parameters.Keys.Order(), reloaded.Parameters.Keys.Order());
        var exported = Path.Combine(folder.Path, "tuned.onnx");
        reloaded.Save(exported, info.MetadataProps());

        var test = new ShapesDataset(8, seed: 2);
        var batch = FirstBatch(test, trainer, 8);
        var ours = reloaded.Scores(new Tape(new SimdKernels(1)) { GradEnabled = false }, batch.Images).ToArray();
        var fromExport = OnnxModel.Load(exported).Scores(new Tape(new SimdKernels(1)) { GradEnabled = false }, batch.Images).ToArray();
        using var ort = new OrtReference(exported);
        var theirs = ort.Run("input", batch.Images.ToArray(), [8, 3, 64, 64])["logits"];
        double maxDiff = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        double maxLogit = theirs.Max(Math.Abs);
        output.WriteLine($"exported graph, 8 test images: max |logit NanoCam − ONNX Runtime| = {maxDiff:E2} (max |logit| {maxLogit:F3})");
        Assert.True(maxDiff <= 1e-4, $"max |Δlogit| {maxDiff}");
        Assert.Equal(ours, fromExport);
        // The export describes itself: NanoCam's preprocessing and the class names travel in metadata_props.
        Assert.Contains(GraphCheckpoint.ClassesKey, OnnxModel.Load(exported).MetadataProps.Keys);
    }

    [Fact]
    public void FrozenParameters_StayBitIdentical_ByModulePathAndByOnnxName()
    {
        var model = Load();
        var train = new ShapesDataset(64, seed: 1);
        var initial = model.Parameters.ToDictionary(p => p.Key, p => p.Value.ToArray());
        // features.0 is a module path only: export folded its batch norm into the convolution's onnx::Conv_* weights.
        var trainer = new GraphTrainer(model, train, new GraphTrainingOptions { BatchSize = 16, LearningRate = 1e-2f, Freeze = ["features.0", "classifier."] }, new SimdKernels(1));
        var frozen = trainer.Frozen.Order().ToArray();
        output.WriteLine($"frozen: {string.Join(", ", frozen)}; trained: {string.Join(", ", trainer.Trainable)}");
        Assert.Equal(4, frozen.Length);
        Assert.Equal(2, frozen.Count(n => n.StartsWith("onnx::Conv_", StringComparison.Ordinal)));
        Assert.Contains("classifier.weight", frozen);
        var loader = new DataLoader(train, 16, new DataLoaderOptions { Mean = [.. trainer.Mean], Std = [.. trainer.Std] });
        for (int b = 0; b < 3; b++)
        {
            var batch = loader.GetBatch(0, b);
            trainer.Step(batch.Images, batch.Labels);
        }
        foreach (var (name, tensor) in model.Parameters)
        {
            bool same = initial[name].SequenceEqual(tensor.ToArray());
            if (frozen.Contains(name)) Assert.True(same, $"frozen {name} changed");
            else Assert.False(same, $"{name} did not change");
        }
    }

    [Fact]
    public void AFreezePrefixThatMatchesNothing_IsRefusedWithCandidates()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new GraphTrainer(Load(), new ShapesDataset(16, 1), new GraphTrainingOptions { Freeze = ["layer4"] }, new SimdKernels(1)));
        output.WriteLine(ex.Message);
        Assert.Contains("'layer4' matches no parameter", ex.Message);
        Assert.Contains("features", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void AClassCountThatDiffers_IsRefusedNamingBoth()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new GraphTrainer(Load(), new GrayBlobs(16, classes: 3), new GraphTrainingOptions(), new SimdKernels(1)));
        Assert.Contains("scores 6 classes", ex.Message);
        Assert.Contains("has 3", ex.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNorm_TrainModeUpdatesRunningStatisticsByTheNodesMomentum_EvalModeKeepsThem(bool trainMode)
    {
        var model = Load();
        var data = new GrayBlobs(8, classes: 6);
        var trainer = new GraphTrainer(model, data, new GraphTrainingOptions { BatchSize = 8, Optimizer = "sgd", LearningRate = 1e-3f, BatchNormTrain = trainMode }, new SimdKernels(1));
        Assert.Equal(["features.6.running_mean", "features.6.running_var"], trainer.RunningStatistics.Order());
        var batch = FirstBatch(data, trainer, 8);
        // By hand: the batch norm's input (after the ReLU it follows) for the same gray batch replicated to RGB.
        var gray = batch.Images.ToArray();
        int plane = 64 * 64;
        var rgb = new float[8 * 3 * plane];
        for (int n = 0; n < 8; n++)
            for (int c = 0; c < 3; c++) Array.Copy(gray, n * plane, rgb, (n * 3 + c) * plane, plane);
        var probe = new Tape(new SimdKernels(1)) { GradEnabled = false };
        probe.Keep(BatchNormInput);
        model.Run(probe, Tensor.FromArray(rgb, 8, 3, 64, 64));
        var x = probe.Find(BatchNormInput);
        int channels = x.Shape[1], cells = x.Shape[2] * x.Shape[3];
        var values = x.ToArray();
        var oldMean = model.Parameters["features.6.running_mean"].ToArray();
        var oldVar = model.Parameters["features.6.running_var"].ToArray();

        trainer.Step(batch.Images, batch.Labels);

        var newMean = model.Parameters["features.6.running_mean"].ToArray();
        var newVar = model.Parameters["features.6.running_var"].ToArray();
        if (!trainMode)
        {
            Assert.Equal(oldMean, newMean);
            Assert.Equal(oldVar, newVar);
            return;
        }
        // PyTorch's rule with m = 1 − ONNX momentum (0.9 in the file): running ← (1 − m)·running + m·batch, unbiased variance.
        const double m = 0.1;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            int count = 8 * cells;
            for (int n = 0; n < 8; n++)
                for (int i = 0; i < cells; i++) sum += values[(n * channels + c) * cells + i];
            double mean = sum / count;
            for (int n = 0; n < 8; n++)
                for (int i = 0; i < cells; i++) squares += Math.Pow(values[(n * channels + c) * cells + i] - mean, 2);
            double expectedMean = (1 - m) * oldMean[c] + m * mean, expectedVar = (1 - m) * oldVar[c] + m * squares / (count - 1);
            Assert.Equal(expectedMean, newMean[c], 5);
            Assert.Equal(expectedVar, newVar[c], 5);
        }
    }

    [Fact]
    public void ANonFiniteLoss_StopsTraining_AndKeepsTheLastGoodCheckpoint()
    {
        using var folder = new TempFolder();
        var checkpoint = Path.Combine(folder.Path, "last-good.safetensors");
        var data = new GrayBlobs(32, classes: 6);
        var trainer = new GraphTrainer(Load(), data, new GraphTrainingOptions { Epochs = 3, BatchSize = 16, Output = checkpoint }, new SimdKernels(1));
        // After the first epoch is saved, the images turn to NaN: the second epoch's first loss is NaN.
        var ex = Assert.Throws<GraphTrainingStoppedException>(() => trainer.Run(epochs: new Immediate<GraphEpochSummary>(_ => data.Poisoned = true)));
        output.WriteLine(ex.Message);
        Assert.Contains("the loss became NaN", ex.Message);
        Assert.Contains("in epoch 2", ex.Message);
        Assert.Contains("(epoch 1) is kept", ex.Message);
        var (kept, info) = GraphCheckpoint.Load(checkpoint);
        Assert.Equal(1, info.Epoch);
        Assert.All(kept.Parameters.Values, p => Assert.All(p.ToArray(), v => Assert.True(float.IsFinite(v))));
    }

    private sealed class Immediate<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>A tiny one-channel 64×64 data set: a bright square whose position is the class (exercises gray → RGB).</summary>
    private sealed class GrayBlobs(int count, int classes) : Dataset
    {
        public override int Count => count;
        public override IReadOnlyList<string> ClassNames { get; } = Enumerable.Range(0, classes).Select(i => $"c{i}").ToArray();
        public override int Channels => 1;
        public override int Height => 64;
        public override int Width => 64;
        public override int GetLabel(int index) => index % classes;

        /// <summary>Every image read after this is set is NaN.</summary>
        public bool Poisoned { get; set; }

        public override void GetImage(int index, Span<float> chw)
        {
            chw.Clear();
            if (Poisoned) { chw.Fill(float.NaN); return; }
            int label = GetLabel(index), x0 = 4 + 9 * label, y0 = 8 + index % 5 * 7;
            for (int y = y0; y < y0 + 12; y++)
                for (int x = x0; x < x0 + 12; x++) chw[y * 64 + x] = 0.5f + 0.05f * (index % 7);
        }
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("nanocam-graphtrain-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
