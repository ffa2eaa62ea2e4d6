using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoCam.Cpu.Simd.Pooling;

/// <summary>
/// Max-pooling backward for 2×2 windows at stride 2 without padding (the training step's pools): windows four at a
/// time instead of one scattered add each. Window (oy, ox) covers dx[2oy + r, 2ox + s] and hands dy[oy, ox] to the
/// one tap its argmax names. A step spreads its argmaxes and gradients to the 8 cells they cover in each of the two
/// rows (lane 2l + s ← window l), compares each cell's index with its window's argmax, and the cells that match
/// become dx + dy while the rest are stored back unchanged. Windows do not overlap, so each
/// cell receives at most one term: the reference's dx[index] += dy[o], to the bit (an unmatched −0 stays −0).
/// Every step reads and writes exactly its own windows' cells (the last 1–3 windows of a row go one at a time): a
/// step run past the row's end would overlap the next row's loads with its stores, and the store-to-load forwarding
/// stalls cost more than the step saves (whole-vector and AVX-512 masked tails both ran slower than the scalar loop).
/// </summary>
public static unsafe class MaxPool2x2Backward
{
    /// <summary>Whether <see cref="Plane"/> takes this geometry (indices stay exact in the float argmax: plane &lt; 2²⁴).</summary>
    public static bool Applies(in Pool2dGeometry g) =>
        Avx2.IsSupported && WholeWindows2x2Stride2(g) && (long)g.InputHeight * g.InputWidth < 1 << 24;

    /// <summary>2×2 windows at stride 2, no padding or dilation, every window's four taps inside the input.</summary>
    internal static bool WholeWindows2x2Stride2(in Pool2dGeometry g) =>
        g is { KernelHeight: 2, KernelWidth: 2, StrideHeight: 2, StrideWidth: 2, PadTop: 0, PadLeft: 0, DilationHeight: 1, DilationWidth: 1 }
        && 2 * g.OutputHeight <= g.InputHeight && 2 * g.OutputWidth <= g.InputWidth;

    /// <summary>dx[argmax[o]] += dy[o] for the windows o of one plane.</summary>
    public static void Plane(float* dx, float* dy, float* am, in Pool2dGeometry g)
    {
        int w = g.InputWidth, oh = g.OutputHeight, ow = g.OutputWidth;
        for (int oy = 0; oy < oh; oy++)
        {
            int o = oy * ow, top = 2 * oy * w, ox = 0;
            for (; ox + 4 <= ow; ox += 4) Four(dx, top + 2 * ox, w, am + o + ox, dy + o + ox);
            for (; ox < ow; ox++)
            {
                int index = (int)am[o + ox];
                if (index >= 0) dx[index] += dy[o + ox];
            }
        }
    }

    /// <summary>Four windows whose top-left cell is dx[first]: 8 cells in each row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Four(float* dx, int first, int w, float* am, float* dy)
    {
        var spread = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
        var cell = Vector256.Create(0f, 1, 2, 3, 4, 5, 6, 7);
        var argmax = Vector128.Load(am);
        var gradient = Vector128.Load(dy);
        var argmaxes = Avx2.PermuteVar8x32(Vector256.Create(argmax, argmax), spread);
        var gradients = Avx2.PermuteVar8x32(Vector256.Create(gradient, gradient), spread);
        for (int row = first; row <= first + w; row += w)
        {
            var hit = Vector256.Equals(argmaxes, Vector256.Create((float)row) + cell);
            var x = Vector256.Load(dx + row);
            Vector256.ConditionalSelect(hit, x + gradients, x).Store(dx + row);
        }
    }
}
