using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// A constant left-hand GEMM operand A [rows × depth] (a convolution's weight, one group) packed once into the
/// micro-kernel's layout for every depth block, as <see cref="SimdGemm{TKernel}"/> packs it on each call (with deeper blocks):
/// block b covers depth [b·KcStep, min((b+1)·KcStep, depth)) and starts at panels·Mr·b·KcStep; inside it, row panel
/// q holds element (q·Mr + i, p) at q·Mr·kc + p·Mr + i (rows past the end are zeros). Inference reuses it call after call.
/// </summary>
public sealed unsafe class PackedWeights
{
    /// <summary>
    /// Depth of one packed block: twice the training GEMM's 256, so the thin inference GEMMs (N = 169 to 3025) pass
    /// over C half as often (SqueezeNet's conv10 and 13×13 expands ran 8–15 % faster than at 256; 128 was slower).
    /// </summary>
    public const int KcMax = 512;

    private readonly float[] _data;

    private PackedWeights(float[] data, int rows, int depth, int mr, int kcStep)
    {
        _data = data;
        (Rows, Depth, Mr, KcStep) = (rows, depth, mr, kcStep);
    }

    public int Rows { get; }
    public int Depth { get; }

    /// <summary>Rows per micro-panel: the micro-kernel's Mr this packing serves.</summary>
    public int Mr { get; }

    /// <summary>Depth of every block but possibly the last (equal blocks: 576 = 3 × 192, as the GEMM splits it).</summary>
    public int KcStep { get; }

    public int Panels => (Rows + Mr - 1) / Mr;

    /// <summary>The packed block that starts at depth <paramref name="pc"/> (a multiple of <see cref="KcStep"/>).</summary>
    public float* Block(int pc) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data)) + (long)Panels * Mr * pc;

    /// <summary>Packs row-major A (rows × depth, row stride depth) for a micro-kernel with <paramref name="mr"/> rows.</summary>
    public static PackedWeights Pack(ReadOnlySpan<float> a, int rows, int depth, int mr)
    {
        if (a.Length < (long)rows * depth) throw new ArgumentException($"packed weights: {a.Length} values for a {rows}×{depth} matrix");
        int blocks = Math.Max(1, (depth + KcMax - 1) / KcMax), kcStep = Math.Max(1, (depth + blocks - 1) / blocks);
        int panels = (rows + mr - 1) / mr;
        var data = GC.AllocateArray<float>(panels * mr * depth, pinned: true);
        for (int pc = 0; pc < depth; pc += kcStep)
        {
            int kc = Math.Min(kcStep, depth - pc);
            for (int panel = 0; panel < panels; panel++)
            {
                int offset = panels * mr * pc + panel * mr * kc;
                for (int p = 0; p < kc; p++)
                for (int i = 0; i < mr; i++)
                {
                    int row = panel * mr + i;
                    data[offset + p * mr + i] = row < rows ? a[row * depth + pc + p] : 0f;
                }
            }
        }
        return new PackedWeights(data, rows, depth, mr, kcStep);
    }
}
