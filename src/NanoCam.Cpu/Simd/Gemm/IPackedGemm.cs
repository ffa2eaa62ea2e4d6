using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>Which register tile the SIMD GEMM runs: chosen from the CPU by default, forced in tests and benchmarks.</summary>
public enum MicroKernelChoice
{
    /// <summary>AVX-512 when Vector512 is hardware-accelerated, else AVX2.</summary>
    Auto,
    /// <summary>The 256-bit 6×16 tile (any x64 CPU with AVX2 + FMA).</summary>
    Avx2,
    /// <summary>The 512-bit 8×48 tile (runs anywhere, but is only fast with AVX-512).</summary>
    Avx512,
}

/// <summary>The packed GEMM loop nest with its micro-kernel bound, behind one non-generic face.</summary>
public unsafe interface IPackedGemm
{
    /// <summary>The tile the loop nest drives, e.g. "8x48".</summary>
    string Tile { get; }

    /// <summary>C[m×n] = alpha·op(A)·op(B) + beta·C; lda/ldb/ldc are row lengths as stored.</summary>
    void Multiply(float* c, int ldc, float* a, int lda, float* b, int ldb, int m, int n, int k,
        bool transposeA, bool transposeB, float alpha, float beta, GemmWorkspace workspace, CpuThreadPool? pool);

    /// <summary>
    /// C[m × images·OH·OW] = alpha·op(A)[m × C·R·S]·im2col(images) + beta·C (implicit GEMM): <paramref name="channels"/>
    /// channels of each image under geometry <paramref name="g"/>, the images imageStride floats apart.
    /// </summary>
    void MultiplyIm2Col(float* c, int ldc, float* a, int lda, bool transposeA, int m, float* image, in Conv2dGeometry g, int channels,
        long imageStride, int images, float alpha, float beta, GemmWorkspace workspace, CpuThreadPool? pool);
}

/// <summary>Builds the packed GEMM for a <see cref="MicroKernelChoice"/>.</summary>
public static class PackedGemm
{
    public static IPackedGemm Create(MicroKernelChoice choice) => Resolve(choice) switch
    {
        MicroKernelChoice.Avx512 => new SimdGemm<MicroKernel8x48>(),
        _ => new SimdGemm<MicroKernel6x16>(),
    };

    /// <summary>Auto becomes Avx512 where Vector512 runs in hardware, else Avx2; a forced choice stays as it is.</summary>
    public static MicroKernelChoice Resolve(MicroKernelChoice choice) =>
        choice != MicroKernelChoice.Auto ? choice
        : System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? MicroKernelChoice.Avx512 : MicroKernelChoice.Avx2;
}
