namespace NanoCam.Gpu.Tests;

/// <summary>Max and average pooling (ceil mode, padding, count-include-pad, dilation) and global average pooling.</summary>
public abstract class PoolingParityTests(string device) : ParityTest(device)
{
    public static TheoryData<string, Pool2dGeometry> Geometries => new()
    {
        { "2×2 stride 2 on 7×5", new Pool2dGeometry(2, 3, 7, 5, 2, 2, 2, 2) },
        { "3×3 stride 2 pad 1 ceil", new Pool2dGeometry(2, 3, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, CeilMode: true) },
        { "3×2 stride 1×2 asymmetric pad, dilation 2", new Pool2dGeometry(1, 2, 9, 8, 3, 2, 1, 2, 1, 0, 2, 1, 2, 2) },
        { "overlapping 3×3 stride 1 ceil", new Pool2dGeometry(1, 3, 6, 7, 3, 3, 1, 1, CeilMode: true) },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxPool_ForwardAndBackward_MatchNaive(string name, Pool2dGeometry g)
    {
        var rng = new Random(4);
        var outShape = g.OutputShape.ToArray();
        Tensor?[] args = [Random(rng, outShape), Random(rng, outShape), Random(rng, g.InputShape.ToArray()), Random(rng, g.InputShape.ToArray()), Random(rng, outShape)];
        Agree($"maxpool forward {name}", 0, args, (k, a) => k.MaxPool2dForward(a[0]!, a[1]!, a[2]!, g), 0, 1);
        Agree($"maxpool backward {name}", 1e-6f, args, (k, a) =>
        {
            k.MaxPool2dForward(a[0]!, a[1]!, a[2]!, g);
            k.MaxPool2dBackward(a[3]!, a[4]!, a[1]!, g);
        }, 3);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AvgPool_ForwardAndBackward_MatchNaive_WithAndWithoutPadCounted(string name, Pool2dGeometry g)
    {
        var rng = new Random(5);
        foreach (bool countPad in new[] { true, false })
        {
            Tensor?[] args = [Random(rng, g.OutputShape.ToArray()), Random(rng, g.InputShape.ToArray()), Random(rng, g.InputShape.ToArray()), Random(rng, g.OutputShape.ToArray())];
            Agree($"avgpool forward {name} countPad={countPad}", 1e-6f, args, (k, a) => k.AvgPool2dForward(a[0]!, a[1]!, g, countPad), 0);
            Agree($"avgpool backward {name} countPad={countPad}", 1e-6f, args, (k, a) => k.AvgPool2dBackward(a[2]!, a[3]!, g, countPad), 2);
        }
    }

    [Fact]
    public void GlobalAvgPool_ForwardAndBackward_MatchNaive()
    {
        var rng = new Random(6);
        Tensor?[] args = [Random(rng, 3, 5, 1, 1), Random(rng, 3, 5, 7, 9), Random(rng, 3, 5, 7, 9), Random(rng, 3, 5)];
        Agree("global average pool forward", 1e-6f, args, (k, a) => k.GlobalAvgPoolForward(a[0]!, a[1]!), 0);
        Agree("global average pool backward", 1e-6f, args, (k, a) => k.GlobalAvgPoolBackward(a[2]!, a[3]!), 2);
    }
}

/// <summary>Runs <see cref="PoolingParityTests"/> on ILGPU's CPU accelerator.</summary>
public sealed class PoolingParityOnCpuAccelerator() : PoolingParityTests("ilgpu-cpu");
