namespace NanoCam.Gpu.Tests;

/// <summary>Convolution forward (tiled implicit GEMM) and both backwards against the naive loops.</summary>
public abstract class ConvParityTests(string device) : ParityTest(device)
{
    /// <summary>Odd images, stride, dilation, groups, asymmetric padding, and sizes past one 64×64×16 tile.</summary>
    public static TheoryData<string, Conv2dGeometry> Geometries => new()
    {
        { "3×3 pad 1 on 7×5", new Conv2dGeometry(2, 3, 7, 5, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1) },
        { "stride 2", new Conv2dGeometry(2, 3, 7, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1) },
        { "dilation 2", new Conv2dGeometry(1, 3, 9, 7, 4, 3, 3, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2, DilationHeight: 2, DilationWidth: 2) },
        { "groups 3, stride 2 × 1, asymmetric pad", new Conv2dGeometry(2, 6, 7, 5, 9, 3, 2, 2, 1, 1, 0, 0, 1, Groups: 3) },
        { "depthwise", new Conv2dGeometry(1, 4, 6, 6, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: 4) },
        { "1×1", new Conv2dGeometry(3, 5, 4, 3, 7, 1, 1) },
        { "tails past one tile", new Conv2dGeometry(2, 11, 9, 8, 70, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv2dForward_MatchesNaive(string name, Conv2dGeometry g)
    {
        var rng = new Random(1);
        foreach (bool withBias in new[] { true, false })
        {
            Tensor?[] args = [Random(rng, g.OutputShape.ToArray()), Random(rng, g.InputShape.ToArray()), Random(rng, g.WeightShape.ToArray()),
                withBias ? Random(rng, g.OutputChannels) : null];
            Agree($"conv2d forward {name} bias={withBias}", 1e-5f, args, (k, a) => k.Conv2dForward(a[0]!, a[1]!, a[2]!, a[3], g), 0);
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv2dBackwardInput_AccumulatesLikeNaive(string name, Conv2dGeometry g)
    {
        var rng = new Random(2);
        Tensor?[] args = [Random(rng, g.InputShape.ToArray()), Random(rng, g.OutputShape.ToArray()), Random(rng, g.WeightShape.ToArray())];
        Agree($"conv2d backward input {name}", 1e-5f, args, (k, a) => k.Conv2dBackwardInput(a[0]!, a[1]!, a[2]!, g), 0);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Conv2dBackwardWeightAndBias_AccumulateLikeNaive(string name, Conv2dGeometry g)
    {
        var rng = new Random(3);
        Tensor?[] args = [Random(rng, g.WeightShape.ToArray()), Random(rng, g.OutputShape.ToArray()), Random(rng, g.InputShape.ToArray()), Random(rng, g.OutputChannels)];
        Agree($"conv2d backward weight {name}", 1e-5f, args, (k, a) => k.Conv2dBackwardWeight(a[0]!, a[1]!, a[2]!, g), 0);
        Agree($"conv2d backward bias {name}", 1e-5f, args, (k, a) => k.Conv2dBackwardBias(a[3]!, a[1]!), 3);
    }

    /// <summary>Every epilogue an imported model's convolution may carry (ReLU6, leaky ReLU, HardSwish, SiLU, HardSwish as a gate, …).</summary>
    public static TheoryData<string, float, float> Epilogues => new()
    {
        { nameof(EpilogueActivation.Identity), 0f, 0f }, { nameof(EpilogueActivation.Relu), 0f, 0f }, { nameof(EpilogueActivation.Clip), 0f, 6f },
        { nameof(EpilogueActivation.LeakyRelu), 0.1f, 0f }, { nameof(EpilogueActivation.Sigmoid), 0f, 0f }, { nameof(EpilogueActivation.HardSigmoid), 0.2f, 0.5f },
        { nameof(EpilogueActivation.HardSwish), 0f, 0f }, { nameof(EpilogueActivation.Silu), 0f, 0f }, { nameof(EpilogueActivation.HardSigmoidGate), 1f / 6, 0.5f },
    };

    [Theory]
    [MemberData(nameof(Epilogues))]
    public void Conv2dInference_WithEachEpilogue_IntoAChannelSlice_MatchesNaive(string kind, float a, float b)
    {
        var epilogue = new ConvEpilogue(Enum.Parse<EpilogueActivation>(kind), a, b);
        var g = new Conv2dGeometry(2, 3, 7, 5, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        var rng = new Random(4);
        var input = Random(rng, g.InputShape.ToArray());
        for (int i = 0; i < input.Size; i++) input.Span[i] *= 4f;   // past ReLU6's and HardSwish's bends
        // Channels [2, 2 + K) of a wider output: the rest must be left as they were.
        Tensor?[] args = [Random(rng, g.Batch, g.OutputChannels + 3, g.OutputHeight, g.OutputWidth), input, Random(rng, g.WeightShape.ToArray()), Random(rng, g.OutputChannels)];
        Agree($"conv2d inference {epilogue}", 1e-5f, args, (k, t) => k.Conv2dInference(t[0]!, 2, t[1]!, t[2]!, t[3], g, epilogue, k.PrepareConv2dWeight(t[2]!, g)), 0);
    }
}

/// <summary>Runs <see cref="ConvParityTests"/> on ILGPU's CPU accelerator with the direct (one thread per output) kernels.</summary>
public sealed class ConvParityOnCpuAccelerator() : ConvParityTests("ilgpu-cpu");

/// <summary>Runs <see cref="ConvParityTests"/> on ILGPU's CPU accelerator with the shared-memory tiled kernels the GPUs use.</summary>
public sealed class ConvParityOnCpuAcceleratorTiled() : ConvParityTests("ilgpu-cpu/tiled");
