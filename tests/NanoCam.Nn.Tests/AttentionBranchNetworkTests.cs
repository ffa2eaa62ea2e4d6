using NanoCam.Autodiff;
using NanoCam.Core.Tests;
using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using NanoCam.Nn.Models;
using NanoCam.Nn.Modules;
using NanoCam.Nn.Optim;
using NanoCam.Nn.Training;

namespace NanoCam.Nn.Tests;

public sealed class AttentionBranchNetworkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nanocam-abn").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("abn-vgg", 64, 32)]
    [InlineData("abn-resnet", 64, 32)]
    [InlineData("abn-vgg", 20, 10)]
    [InlineData("abn-resnet", 21, 11)]
    public void Branches_GiveBothBranchesScores_AndOneAttentionMapAtTheExtractorsResolution(string arch, int side, int mapSide)
    {
        var model = (AttentionBranchNetwork)Architectures.Create(arch, 3, 6, seed: 1);
        var tape = new Tape(NaiveKernels.Instance) { GradEnabled = false };
        var outputs = model.Branches(tape, TapeGradientCheck.Random(new Random(2), 2, 3, side, side));
        Assert.Equal([2, 6], outputs.AttentionScores.Shape.ToArray());
        Assert.Equal([2, 6], outputs.PerceptionScores.Shape.ToArray());
        Assert.Equal([2, 1, mapSide, mapSide], outputs.Map.Shape.ToArray());
        Assert.Equal(mapSide, Architectures.AttentionMapSide(arch, side));
        Assert.Same(outputs.Map, tape.Find(AttentionBranchNetwork.AttentionMapLayer));
        Assert.Equal([2, 6, mapSide, mapSide], tape.Find(AttentionBranchNetwork.ClassMapsLayer).Shape.ToArray());
        Assert.Equal(32, tape.Find(AttentionBranchNetwork.GatedLayer).Shape[1]);
        Assert.All(outputs.Map.ToArray(), m => Assert.InRange(m, 0f, 1f));
        // The network's output is the perception branch's.
        var again = model.Call(new Tape(NaiveKernels.Instance) { GradEnabled = false }, TapeGradientCheck.Random(new Random(2), 2, 3, side, side));
        Assert.Equal(outputs.PerceptionScores.ToArray(), again.ToArray());
    }

    [Fact]
    public void Gate_IsOnePlusTheMapTimesEachChannel_ByADirectLoop()
    {
        var features = TapeGradientCheck.Random(new Random(3), 2, 3, 4, 5);
        var map = TapeGradientCheck.Random(new Random(4), 2, 1, 4, 5);
        var gated = AttentionBranchNetwork.Gate(new Tape(NaiveKernels.Instance), features, map).ToArray();
        var (g, m) = (features.ToArray(), map.ToArray());
        for (int n = 0; n < 2; n++)
        for (int c = 0; c < 3; c++)
        for (int p = 0; p < 20; p++)
            Assert.Equal((1 + m[n * 20 + p]) * g[(n * 3 + c) * 20 + p], gated[(n * 3 + c) * 20 + p], 5);
    }

    [Fact]
    public void Gate_GradientsOfFeaturesAndMap_MatchFiniteDifferences()
    {
        var rng = new Random(5);
        var features = TapeGradientCheck.Random(rng, 2, 3, 3, 4);
        var map = TapeGradientCheck.Random(rng, 2, 1, 3, 4);
        TapeGradientCheck.Check(NaiveKernels.Instance, tape => AttentionBranchNetwork.Gate(tape, features, map), [features, map]);
        TapeGradientCheck.Check(new SimdKernels(threads: 1), tape => AttentionBranchNetwork.Gate(tape, features, map), [features, map]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AttentionBranch_GradientsOfItsInputAndWeights_MatchFiniteDifferences(bool checkMap)
    {
        var rng = new Random(6);
        var branch = new AttentionBranch(new Sequential(new Conv2d(2, 3, 3, padding: 1, rng: rng), new ReLU()), 3, 4, rng);
        branch.AssignPaths("attention");
        var features = TapeGradientCheck.Random(rng, 2, 2, 4, 4);
        Tensor Output(Tape tape) { var (scores, map) = branch.Run(tape, features); return checkMap ? map : scores; }
        var weights = new[] { branch.ClassMaps.Weight.Value, branch.MapConv.Weight.Value, ((Conv2d)branch.Convs.Children[0].Module).Weight.Value };
        TapeGradientCheck.Check(NaiveKernels.Instance, Output, [features, .. weights], h: 1e-2f, tolerance: 5e-3f);
    }

    [Fact]
    public void WholeNetwork_InputGradient_MatchesFiniteDifferences_ThroughBothBranches()
    {
        var rng = new Random(7);
        var model = new AttentionBranchNetwork(
            new Sequential(new Conv2d(1, 3, 3, padding: 1, rng: rng), new ReLU()),
            new AttentionBranch(new Sequential(new Conv2d(3, 3, 3, padding: 1, rng: rng)), 3, 2, rng),
            new Sequential(new Conv2d(3, 4, 3, padding: 1, rng: rng)), 4, 2, rng);
        var input = TapeGradientCheck.Random(rng, 1, 1, 5, 5);
        TapeGradientCheck.Check(NaiveKernels.Instance, tape => model.Call(tape, input), [input], h: 1e-2f, tolerance: 5e-3f);
    }

    [Fact]
    public void TrainingStep_OnATinyAbn_LowersTheSumOfBothBranchesLosses()
    {
        var kernels = new SimdKernels(threads: 1);
        var rng = new Random(8);
        var model = new AttentionBranchNetwork(
            new Sequential(new Conv2d(1, 8, 3, rng: rng), new ReLU()),
            new AttentionBranch(new Sequential(new Conv2d(8, 8, 3, padding: 1, rng: rng), new ReLU()), 8, 4, rng),
            new Sequential(new Conv2d(8, 16, 3, stride: 2, rng: rng), new ReLU()), 16, 4, rng);
        var (images, labels) = TrainingTests.Quadrants(128, 1);
        var step = new TrainingStep(model, new Adam(kernels, model.TrainableParameters(), 3e-3f), kernels);

        float LossNow()
        {
            // L = L_att + L_per (eq. 1), each a mean cross-entropy computed here by a direct loop; batch statistics in the
            // attention map's batch norm, as in the training step.
            var outputs = model.Branches(new Tape(kernels) { GradEnabled = false, Training = true }, images);
            return CrossEntropy(outputs.AttentionScores.ToArray(), labels.ToArray()) + CrossEntropy(outputs.PerceptionScores.ToArray(), labels.ToArray());
        }

        float before = LossNow();
        float firstStepLoss = step.Run(images, labels).Loss;
        Assert.Equal(before, firstStepLoss, 3);
        for (int i = 0; i < 50; i++) step.Run(images, labels);
        float after = LossNow();
        Assert.True(after < 0.8f * before, $"loss {before} → {after}");
    }

    private static float CrossEntropy(float[] logits, float[] labels)
    {
        int rows = labels.Length, classes = logits.Length / rows;
        double sum = 0;
        for (int n = 0; n < rows; n++)
        {
            double max = logits.Skip(n * classes).Take(classes).Max(), z = 0;
            for (int c = 0; c < classes; c++) z += Math.Exp(logits[n * classes + c] - max);
            sum += max + Math.Log(z) - logits[n * classes + (int)labels[n]];
        }
        return (float)(sum / rows);
    }

    [Theory]
    [InlineData("abn-vgg")]
    [InlineData("abn-resnet")]
    public void TrainedModel_SaveThenLoad_GivesTheSameScoresAndAttentionMap(string arch)
    {
        var network = (AttentionBranchNetwork)Architectures.Create(arch, 3, 6, seed: 1);
        // Nonzero running statistics, so that the buffers are part of what must round-trip.
        var kernels = new SimdKernels(threads: 1);
        new TrainingStep(network, new Sgd(kernels, network.TrainableParameters(), 0.01f, 0.9f, 0f), kernels)
            .Run(TapeGradientCheck.Random(new Random(9), 4, 3, 16, 16), Tensor.FromArray([0f, 1f, 2f, 3f], 4));
        var metadata = new ModelMetadata { Architecture = arch, InputChannels = 3, InputHeight = 16, InputWidth = 16, Classes = ["a", "b", "c", "d", "e", "f"], Mean = [0, 0, 0], Std = [1, 1, 1], Seed = 1 };
        var path = Path.Combine(_dir, "abn.safetensors");
        new TrainedModel(network, metadata).Save(path);
        var loaded = TrainedModel.Load(path);
        var restored = Assert.IsType<AttentionBranchNetwork>(loaded.Network);
        Assert.Contains("attention.map_norm.running_mean", network.StateDict().Keys);
        var input = TapeGradientCheck.Random(new Random(10), 2, 3, 16, 16);
        var a = network.Branches(new Tape(kernels) { GradEnabled = false }, input);
        var b = restored.Branches(new Tape(kernels) { GradEnabled = false }, input);
        Assert.Equal(a.PerceptionScores.ToArray(), b.PerceptionScores.ToArray());
        Assert.Equal(a.AttentionScores.ToArray(), b.AttentionScores.ToArray());
        Assert.Equal(a.Map.ToArray(), b.Map.ToArray());
    }

    [Theory]
    [InlineData("abn-vgg", 3, 4)]
    [InlineData("abn-resnet", 2, 3)]
    public void CheckInputSize_RefusesImagesWhoseAttentionMapWouldBeUnderTwoByTwo(string arch, int tooSmall, int smallest)
    {
        var e = Assert.Throws<ArgumentException>(() => Architectures.CheckInputSize(arch, tooSmall, 10));
        Assert.Contains($"needs at least {smallest}×{smallest}", e.Message);
        Architectures.CheckInputSize(arch, smallest, smallest);
        Architectures.CheckInputSize("vgg", 1, 1); // no attention branch, nothing to check
    }
}
