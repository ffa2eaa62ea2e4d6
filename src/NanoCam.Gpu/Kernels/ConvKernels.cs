using ILGPU;

namespace NanoCam.Gpu.Kernels;

/// <summary>
/// 2-D convolution kernels (NCHW, weight [K, C/groups, R, S]); the definition is the naive backend's:
/// y[n,k,oy,ox] = b[k] + Σ_{c∈group(k), r, s} x[n, c, oy·sh − pt + r·dh, ox·sw − pl + s·dw] · w[k, c − c0, r, s].
/// </summary>
internal static class ConvKernels
{
    /// <summary>
    /// Forward as an implicit GEMM per group g, tiled in shared memory (<see cref="TiledProduct"/>):
    /// Y_g [K/G × N·OH·OW] = W_g [K/G × (C/G)·R·S] · X̃_g, where X̃_g is the im2col matrix, never stored: each tile of it
    /// is gathered from the input (zero for padding) while loading shared memory. Grid z is the group.
    /// </summary>
    public static void ForwardTiled(ArrayView<float> output, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias,
        int hasBias, Conv2dGeometry g)
    {
        var aTile = SharedMemory.Allocate<float>(TiledProduct.TileElements);
        var bTile = SharedMemory.Allocate<float>(TiledProduct.TileElements);
        int tx = Group.IdxX, ty = Group.IdxY, thread = ty * TiledProduct.Threads + tx, group = Grid.IdxZ;
        int kpg = g.OutputChannels / g.Groups, cpg = g.InputChannels / g.Groups;
        int taps = g.KernelHeight * g.KernelWidth, depth = cpg * taps;
        int oh = g.OutputHeight, ow = g.OutputWidth, plane = oh * ow, columns = g.Batch * plane;
        int rowBase = Grid.IdxY * TiledProduct.Block, columnBase = Grid.IdxX * TiledProduct.Block;
        var tile = new MicroTile();
        for (int p0 = 0; p0 < depth; p0 += TiledProduct.Depth)
        {
            for (int l = 0; l < TiledProduct.LoadsPerThread; l++)
            {
                int e = thread + l * TiledProduct.Threads * TiledProduct.Threads;
                // Weights: row k of W_g is contiguous along the reduction index.
                int row = e / TiledProduct.Depth, p = e % TiledProduct.Depth;
                int k = rowBase + row, j = p0 + p;
                aTile[p * TiledProduct.Block + row] = k < kpg && j < depth ? weight[(group * kpg + k) * depth + j] : 0f;
                // im2col: reduction index q = (c, r, s), column = (n, oy, ox); consecutive threads take consecutive columns.
                int q = e / TiledProduct.Block, column = e % TiledProduct.Block;
                bTile[q * TiledProduct.Block + column] = Im2col(input, g, group * cpg, p0 + q, depth, columnBase + column, columns);
            }
            Group.Barrier();
            tile.Accumulate(aTile, bTile, ty, tx);
            Group.Barrier();
        }
        for (int ri = 0; ri < 4; ri++)
        for (int cj = 0; cj < 4; cj++)
        {
            int k = rowBase + ty + 16 * ri, column = columnBase + tx + 16 * cj;
            if (k >= kpg || column >= columns) continue;
            int channel = group * kpg + k, n = column / plane, pixel = column - n * plane;
            output[(n * g.OutputChannels + channel) * plane + pixel] = tile.Get(ri, cj) + (hasBias != 0 ? bias[channel] : 0f);
        }
    }

    /// <summary>
    /// Forward as the definition, one thread per output cell and no shared memory: the variant for ILGPU's CPU
    /// accelerator, where every group barrier of the tiled kernel is a rendezvous of OS threads.
    /// </summary>
    public static void ForwardDirect(Index1D index, ArrayView<float> output, ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias,
        int hasBias, Conv2dGeometry g)
    {
        int i = index;
        int oh = g.OutputHeight, ow = g.OutputWidth;
        int ox = i % ow, t = i / ow;
        int oy = t % oh;
        t /= oh;
        int k = t % g.OutputChannels, n = t / g.OutputChannels;
        int kpg = g.OutputChannels / g.Groups, cpg = g.InputChannels / g.Groups, c0 = k / kpg * cpg;
        float sum = hasBias != 0 ? bias[k] : 0f;
        for (int c = 0; c < cpg; c++)
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if (iy < 0 || iy >= g.InputHeight) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                if (ix < 0 || ix >= g.InputWidth) continue;
                sum += input[((n * g.InputChannels + c0 + c) * g.InputHeight + iy) * g.InputWidth + ix]
                     * weight[((k * cpg + c) * g.KernelHeight + r) * g.KernelWidth + s];
            }
        }
        output[i] = sum;
    }

    /// <summary>Element (q, column) of the im2col matrix of one group: the input cell tap q of output position column reads, or 0.</summary>
    private static float Im2col(ArrayView<float> input, Conv2dGeometry g, int firstChannel, int q, int depth, int column, int columns)
    {
        if (q >= depth || column >= columns) return 0f;
        int taps = g.KernelHeight * g.KernelWidth, plane = g.OutputHeight * g.OutputWidth;
        int c = q / taps, rs = q - c * taps, r = rs / g.KernelWidth, s = rs - r * g.KernelWidth;
        int n = column / plane, pixel = column - n * plane, oy = pixel / g.OutputWidth, ox = pixel - oy * g.OutputWidth;
        int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
        int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
        if (iy < 0 || iy >= g.InputHeight || ix < 0 || ix >= g.InputWidth) return 0f;
        return input[((n * g.InputChannels + firstChannel + c) * g.InputHeight + iy) * g.InputWidth + ix];
    }

    /// <summary>
    /// ∂L/∂x as a gather, one thread per input cell (no atomics): dx[n,c,iy,ix] += Σ dy[n,k,oy,ox]·w[k,c−c0,r,s] over the
    /// taps with iy = oy·sh − pt + r·dh (likewise x), i.e. oy = (iy + pt − r·dh)/sh when that divides exactly.
    /// </summary>
    public static void BackwardInput(Index1D index, ArrayView<float> dInput, ArrayView<float> dOutput, ArrayView<float> weight, Conv2dGeometry g)
    {
        int i = index;
        int ix = i % g.InputWidth, t = i / g.InputWidth;
        int iy = t % g.InputHeight;
        t /= g.InputHeight;
        int c = t % g.InputChannels, n = t / g.InputChannels;
        int kpg = g.OutputChannels / g.Groups, cpg = g.InputChannels / g.Groups, group = c / cpg, cl = c - group * cpg;
        int oh = g.OutputHeight, ow = g.OutputWidth;
        float sum = 0;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int ty = iy + g.PadTop - r * g.DilationHeight;
            if (ty < 0 || ty % g.StrideHeight != 0) continue;
            int oy = ty / g.StrideHeight;
            if (oy >= oh) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                int tx = ix + g.PadLeft - s * g.DilationWidth;
                if (tx < 0 || tx % g.StrideWidth != 0) continue;
                int ox = tx / g.StrideWidth;
                if (ox >= ow) continue;
                for (int k = group * kpg; k < (group + 1) * kpg; k++)
                    sum += dOutput[((n * g.OutputChannels + k) * oh + oy) * ow + ox]
                         * weight[((k * cpg + cl) * g.KernelHeight + r) * g.KernelWidth + s];
            }
        }
        dInput[i] += sum;
    }

    /// <summary>∂L/∂w[k,c,r,s] = Σ_{n,oy,ox} dy[n,k,oy,ox] · x[n, c0 + c, iy, ix], one thread per weight.</summary>
    public static void BackwardWeight(Index1D index, ArrayView<float> dWeight, ArrayView<float> dOutput, ArrayView<float> input, Conv2dGeometry g)
    {
        int i = index;
        int s = i % g.KernelWidth, t = i / g.KernelWidth;
        int r = t % g.KernelHeight;
        t /= g.KernelHeight;
        int cpg = g.InputChannels / g.Groups, kpg = g.OutputChannels / g.Groups;
        int cl = t % cpg, k = t / cpg, c = k / kpg * cpg + cl;
        int oh = g.OutputHeight, ow = g.OutputWidth;
        float sum = 0;
        for (int n = 0; n < g.Batch; n++)
        for (int oy = 0; oy < oh; oy++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if (iy < 0 || iy >= g.InputHeight) continue;
            for (int ox = 0; ox < ow; ox++)
            {
                int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                if (ix < 0 || ix >= g.InputWidth) continue;
                sum += dOutput[((n * g.OutputChannels + k) * oh + oy) * ow + ox]
                     * input[((n * g.InputChannels + c) * g.InputHeight + iy) * g.InputWidth + ix];
            }
        }
        dWeight[i] += sum;
    }

    /// <summary>dBias[k] += Σ_{n,y,x} dOutput[n,k,y,x], one thread per channel.</summary>
    public static void BackwardBias(Index1D k, ArrayView<float> dBias, ArrayView<float> dOutput, int batch, int channels, int plane)
    {
        float sum = 0;
        for (int n = 0; n < batch; n++)
        for (int p = 0; p < plane; p++)
            sum += dOutput[(n * channels + k) * plane + p];
        dBias[k] += sum;
    }
}
