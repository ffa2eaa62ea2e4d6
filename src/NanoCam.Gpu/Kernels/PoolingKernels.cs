using ILGPU;
using ILGPU.Algorithms;

namespace NanoCam.Gpu.Kernels;

/// <summary>A pooling sweep as a kernel argument (Pool2dGeometry without its bool, with the output size resolved).</summary>
internal readonly record struct PoolArgs(int Planes, int InputHeight, int InputWidth, int OutputHeight, int OutputWidth,
    int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadTop, int PadLeft, int PadBottom, int PadRight,
    int DilationHeight, int DilationWidth, int CountIncludePad)
{
    public static PoolArgs From(Pool2dGeometry g, bool countIncludePad = false) => new(g.Batch * g.Channels, g.InputHeight, g.InputWidth,
        g.OutputHeight, g.OutputWidth, g.KernelHeight, g.KernelWidth, g.StrideHeight, g.StrideWidth, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight,
        g.DilationHeight, g.DilationWidth, countIncludePad ? 1 : 0);
}

/// <summary>Pooling kernels, one thread per output cell; window (oy, ox) covers rows iy = oy·sh − pt + r·dh (likewise columns).</summary>
internal static class PoolingKernels
{
    /// <summary>output = max over the window; argmax = the winner's flat index y·W + x in its plane (first maximum wins, NaN propagates).</summary>
    public static void MaxForward(Index1D index, ArrayView<float> output, ArrayView<float> argmax, ArrayView<float> input, PoolArgs g)
    {
        int o = index, ox = o % g.OutputWidth, t = o / g.OutputWidth, oy = t % g.OutputHeight, plane = t / g.OutputHeight;
        int planeSize = g.InputHeight * g.InputWidth;
        float best = float.NegativeInfinity;
        int bestIndex = -1;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if (iy < 0 || iy >= g.InputHeight) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                if (ix < 0 || ix >= g.InputWidth) continue;
                float v = input[plane * planeSize + iy * g.InputWidth + ix];
                if (v > best || bestIndex < 0 || XMath.IsNaN(v) && !XMath.IsNaN(best)) { best = v; bestIndex = iy * g.InputWidth + ix; }
            }
        }
        output[o] = best;
        argmax[o] = bestIndex;
    }

    /// <summary>dInput[argmax] += dOutput; overlapping windows may pick one cell, hence the atomic add.</summary>
    public static void MaxBackward(Index1D index, ArrayView<float> dInput, ArrayView<float> dOutput, ArrayView<float> argmax, PoolArgs g)
    {
        int o = index, plane = o / (g.OutputHeight * g.OutputWidth), winner = (int)argmax[o];
        if (winner >= 0) Atomic.Add(ref dInput[plane * g.InputHeight * g.InputWidth + winner], dOutput[o]);
    }

    public static void AvgForward(Index1D index, ArrayView<float> output, ArrayView<float> input, PoolArgs g)
    {
        int o = index, ox = o % g.OutputWidth, t = o / g.OutputWidth, oy = t % g.OutputHeight, plane = t / g.OutputHeight;
        int planeSize = g.InputHeight * g.InputWidth;
        float sum = 0;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if (iy < 0 || iy >= g.InputHeight) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                if (ix >= 0 && ix < g.InputWidth) sum += input[plane * planeSize + iy * g.InputWidth + ix];
            }
        }
        output[o] = sum / Divisor(g, oy, ox);
    }

    /// <summary>Each covered input cell receives dy / divisor; windows overlap, hence the atomic add.</summary>
    public static void AvgBackward(Index1D index, ArrayView<float> dInput, ArrayView<float> dOutput, PoolArgs g)
    {
        int o = index, ox = o % g.OutputWidth, t = o / g.OutputWidth, oy = t % g.OutputHeight, plane = t / g.OutputHeight;
        int planeSize = g.InputHeight * g.InputWidth;
        float share = dOutput[o] / Divisor(g, oy, ox);
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if (iy < 0 || iy >= g.InputHeight) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                if (ix >= 0 && ix < g.InputWidth) Atomic.Add(ref dInput[plane * planeSize + iy * g.InputWidth + ix], share);
            }
        }
    }

    /// <summary>
    /// Cells averaged by window (oy, ox), as NaiveKernels.AvgPoolDivisor: with count-include-pad the taps inside the padded
    /// input [−padBegin, size + padEnd), without it only the taps inside the input; at least 1.
    /// </summary>
    private static int Divisor(PoolArgs g, int oy, int ox)
    {
        int rows = 0, cols = 0;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if (g.CountIncludePad != 0 ? iy >= -g.PadTop && iy < g.InputHeight + g.PadBottom : iy >= 0 && iy < g.InputHeight) rows++;
        }
        for (int s = 0; s < g.KernelWidth; s++)
        {
            int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
            if (g.CountIncludePad != 0 ? ix >= -g.PadLeft && ix < g.InputWidth + g.PadRight : ix >= 0 && ix < g.InputWidth) cols++;
        }
        int count = rows * cols;
        return count < 1 ? 1 : count;
    }

    /// <summary>output[p] = (1/HW) Σ input over plane p, one thread per plane.</summary>
    public static void GlobalAvgForward(Index1D p, ArrayView<float> output, ArrayView<float> input, int plane)
    {
        float sum = 0;
        for (int i = 0; i < plane; i++) sum += input[p * plane + i];
        output[p] = sum / plane;
    }

    /// <summary>Each of the H·W cells receives dy/(H·W).</summary>
    public static void GlobalAvgBackward(Index1D i, ArrayView<float> dInput, ArrayView<float> dOutput, int plane) =>
        dInput[i] += dOutput[i / plane] / plane;
}
