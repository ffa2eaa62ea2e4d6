namespace NanoCam.Gpu.Tests;

/// <summary>The tiled GEMM against the naive triple loop: transposes, alpha/beta, batches, offsets, tails.</summary>
public abstract class GemmParityTests(string device) : ParityTest(device)
{
    public static TheoryData<int, int, int, bool, bool> Cases => new()
    {
        { 1, 1, 1, false, false }, { 7, 13, 5, false, false }, { 65, 67, 33, true, false },
        { 37, 129, 17, false, true }, { 61, 70, 77, true, true }, { 3, 200, 9, false, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gemm_MatchesNaive_ForTailsTransposesAlphaBeta(int m, int n, int k, bool ta, bool tb)
    {
        var rng = new Random(m * 1000 + n + k);
        foreach (var (alpha, beta) in new[] { (1f, 0f), (0.5f, 1f), (-2f, 0.25f) })
        {
            var s = new GemmShape(m, n, k, ta, tb, alpha, beta);
            Tensor?[] args = [Random(rng, m, n), ta ? Random(rng, k, m) : Random(rng, m, k), tb ? Random(rng, n, k) : Random(rng, k, n)];
            Agree($"gemm {m}×{n}×{k} tA={ta} tB={tb} α={alpha} β={beta}", 1e-5f, args, (kk, a) => kk.Gemm(a[0]!, a[1]!, a[2]!, s), 0);
        }
    }

    [Fact]
    public void Gemm_BatchedWithBroadcastOperandAndOffsets_MatchesNaive()
    {
        var rng = new Random(7);
        int m = 9, n = 11, k = 19, batch = 3;
        // A is one matrix for every batch (stride 0) after a 5-element offset; B and C are batched.
        var s = new GemmShape(m, n, k, Batch: batch, BatchStrideA: 0, BatchStrideB: k * n, BatchStrideC: m * n, OffsetA: 5, Alpha: 1.5f, Beta: 0.5f);
        Tensor?[] args = [Random(rng, batch * m * n), Random(rng, 5 + m * k), Random(rng, batch * k * n)];
        Agree("gemm batched, broadcast A, offset", 1e-5f, args, (kk, a) => kk.Gemm(a[0]!, a[1]!, a[2]!, s), 0);
    }

    [Fact]
    public void Gemm_BetaZero_OverwritesNaN()
    {
        var c = Host([float.NaN, float.NaN, float.NaN, float.NaN], 2, 2);
        Tensor?[] args = [c, Host([1, 2, 3, 4], 2, 2), Host([5, 6, 7, 8], 2, 2)];
        Agree("gemm β=0 over NaN", 0, args, (kk, a) => kk.Gemm(a[0]!, a[1]!, a[2]!, new GemmShape(2, 2, 2)), 0);
        var d = Upload(c);
        Gpu.Gemm(d, Upload(Host([1, 2, 3, 4], 2, 2)), Upload(Host([5, 6, 7, 8], 2, 2)), new GemmShape(2, 2, 2));
        Assert.Equal([19f, 22f, 43f, 50f], d.ToArray()); // worked by hand: [1 2; 3 4]·[5 6; 7 8]
    }
}

/// <summary>Runs <see cref="GemmParityTests"/> on ILGPU's CPU accelerator with the direct (one thread per output) kernels.</summary>
public sealed class GemmParityOnCpuAccelerator() : GemmParityTests("ilgpu-cpu");

/// <summary>Runs <see cref="GemmParityTests"/> on ILGPU's CPU accelerator with the shared-memory tiled kernels the GPUs use.</summary>
public sealed class GemmParityOnCpuAcceleratorTiled() : GemmParityTests("ilgpu-cpu/tiled");
