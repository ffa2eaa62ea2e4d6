using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// im2col and its adjoint col2im for one image and one channel group: the patch matrix
/// col[(c·R + r)·S + s, oy·OW + ox] = x[c, oy·sh − pt + r·dh, ox·sw − pl + s·dw] (0 outside), so convolution is
/// W[Kg, Cg·R·S] × col[Cg·R·S, OH·OW]. col2im adds each column entry back to the input cell it was read from.
/// Rows of col lie rowStride floats apart (OH·OW by default; more when several images share one col side by side).
/// </summary>
public static unsafe class Im2Col
{
    public static void Gather(float* col, float* image, int channels, in Conv2dGeometry g, long rowStride = 0)
    {
        if (g is { StrideHeight: 1, StrideWidth: 1, DilationHeight: 1, DilationWidth: 1 } && g.OutputHeight == g.InputHeight && g.OutputWidth == g.InputWidth)
        {
            GatherSamePadding(col, image, channels, g, rowStride > 0 ? rowStride : (long)g.InputHeight * g.InputWidth);
            return;
        }
        int oh = g.OutputHeight, ow = g.OutputWidth, h = g.InputHeight, w = g.InputWidth;
        for (int c = 0; c < channels; c++)
        for (int r = 0; r < g.KernelHeight; r++)
        for (int s = 0; s < g.KernelWidth; s++)
        {
            Tap(col, image, c, r, s, g, rowStride, out float* row, out float* plane, out int dx, out int first, out int last);
            for (int oy = 0; oy < oh; oy++)
            {
                float* dst = row + oy * ow;
                int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
                if ((uint)iy >= (uint)h || last < first)
                {
                    new Span<float>(dst, ow).Clear();
                    continue;
                }
                float* src = plane + iy * w + dx;
                for (int ox = 0; ox < first; ox++) dst[ox] = 0;
                if (g.StrideWidth == 1) PanelCopy.Copy(dst + first, src + first, last - first + 1);
                else for (int ox = first; ox <= last; ox++) dst[ox] = src[ox * g.StrideWidth];
                for (int ox = last + 1; ox < ow; ox++) dst[ox] = 0;
            }
        }
    }

    /// <summary>
    /// im2col of a stride-1 "same" convolution (output H×W = input H×W): each patch row is the channel plane shifted by
    /// (r − pt, s − pl), so its in-range rows are one contiguous copy; the few cells that wrapped across a row edge
    /// (and the rows shifted out) are then zeroed.
    /// </summary>
    private static void GatherSamePadding(float* col, float* image, int channels, in Conv2dGeometry g, long rowStride)
    {
        int h = g.InputHeight, w = g.InputWidth;
        for (int c = 0; c < channels; c++)
        for (int r = 0; r < g.KernelHeight; r++)
        for (int s = 0; s < g.KernelWidth; s++)
        {
            float* row = col + ((c * g.KernelHeight + r) * g.KernelWidth + s) * rowStride;
            float* src = image + (long)c * h * w;
            var t = new PlaneShift(g, r, s);
            PanelCopy.Zero(row, t.FirstRow * w);
            PanelCopy.Zero(row + t.EndRow * w, (h - t.EndRow) * w);
            if (t.Hi > t.Lo) new ReadOnlySpan<float>(src + t.Lo + t.Shift, t.Hi - t.Lo).CopyTo(new Span<float>(row + t.Lo, t.Hi - t.Lo));
            for (int oy = t.FirstRow; oy < t.EndRow; oy++)
                for (int ox = t.WrapFirst; ox < t.WrapEnd; ox++) row[oy * w + ox] = 0;
        }
    }

    /// <summary>
    /// Patch row (r, s) of a stride-1 "same" convolution as a shift of its channel plane: row cell j reads plane cell
    /// j + Shift, for output rows [FirstRow, EndRow) (the others fall outside the plane), as one run [Lo, Hi) clipped to
    /// the plane; columns [WrapFirst, WrapEnd) of those rows wrap across a row edge onto the neighbouring row.
    /// </summary>
    private readonly struct PlaneShift
    {
        public PlaneShift(in Conv2dGeometry g, int r, int s)
        {
            int h = g.InputHeight, w = g.InputWidth, dy = r - g.PadTop, dx = s - g.PadLeft;
            Shift = dy * w + dx;
            FirstRow = Math.Clamp(-dy, 0, h);
            EndRow = Math.Clamp(h - dy, FirstRow, h);
            Lo = Math.Max(FirstRow * w, -Shift);
            Hi = Math.Min(EndRow * w, h * w - Shift);
            WrapFirst = dx < 0 ? 0 : Math.Max(0, w - dx);
            WrapEnd = dx < 0 ? Math.Min(w, -dx) : w;
        }

        public int Shift { get; }
        public int FirstRow { get; }
        public int EndRow { get; }
        public int Lo { get; }
        public int Hi { get; }
        public int WrapFirst { get; }
        public int WrapEnd { get; }
    }

    /// <summary>Cells a patch row of <see cref="ScatterAddSamePadding"/> may wrap onto (rows × columns shifted out), kept on the stack.</summary>
    private const int MaxWrappedCells = 1024;

    /// <summary>
    /// col2im of a stride-1 "same" convolution, the adjoint of <see cref="GatherSamePadding"/>: each patch row is added
    /// to the shifted plane as one contiguous run. The cells its wrapped entries land on are saved before and put back
    /// after, so every cell receives exactly the additions, in the same order, as <see cref="ScatterAdd"/>'s row loop.
    /// </summary>
    private static void ScatterAddSamePadding(float* image, float* col, int channels, in Conv2dGeometry g, long rowStride)
    {
        int h = g.InputHeight, w = g.InputWidth, plane = h * w;
        float* saved = stackalloc float[MaxWrappedCells];
        for (int c = 0; c < channels; c++)
        for (int r = 0; r < g.KernelHeight; r++)
        for (int s = 0; s < g.KernelWidth; s++)
        {
            float* row = col + ((c * g.KernelHeight + r) * g.KernelWidth + s) * rowStride;
            float* dst = image + (long)c * plane;
            var t = new PlaneShift(g, r, s);
            if (t.Hi <= t.Lo) continue;
            int count = 0;
            for (int oy = t.FirstRow; oy < t.EndRow; oy++)
            for (int ox = t.WrapFirst; ox < t.WrapEnd; ox++)
            {
                int p = oy * w + ox + t.Shift;
                if ((uint)p < (uint)plane) saved[count++] = dst[p];
            }
            var run = new Span<float>(dst + t.Lo + t.Shift, t.Hi - t.Lo);
            System.Numerics.Tensors.TensorPrimitives.Add(run, new ReadOnlySpan<float>(row + t.Lo, t.Hi - t.Lo), run);
            count = 0;
            for (int oy = t.FirstRow; oy < t.EndRow; oy++)
            for (int ox = t.WrapFirst; ox < t.WrapEnd; ox++)
            {
                int p = oy * w + ox + t.Shift;
                if ((uint)p < (uint)plane) dst[p] = saved[count++];
            }
        }
    }

    public static void ScatterAdd(float* image, float* col, int channels, in Conv2dGeometry g, long rowStride = 0)
    {
        if (g is { StrideHeight: 1, StrideWidth: 1, DilationHeight: 1, DilationWidth: 1 } && g.OutputHeight == g.InputHeight && g.OutputWidth == g.InputWidth
            && g.InputHeight * Math.Max(g.PadLeft, g.KernelWidth - 1 - g.PadLeft) <= MaxWrappedCells)
        {
            ScatterAddSamePadding(image, col, channels, g, rowStride > 0 ? rowStride : (long)g.InputHeight * g.InputWidth);
            return;
        }
        int oh = g.OutputHeight, ow = g.OutputWidth, h = g.InputHeight, w = g.InputWidth;
        for (int c = 0; c < channels; c++)
        for (int r = 0; r < g.KernelHeight; r++)
        for (int s = 0; s < g.KernelWidth; s++)
        {
            Tap(col, image, c, r, s, g, rowStride, out float* row, out float* plane, out int dx, out int first, out int last);
            if (last < first) continue;
            for (int oy = 0; oy < oh; oy++)
            {
                int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
                if ((uint)iy >= (uint)h) continue;
                float* src = row + oy * ow;
                float* dst = plane + iy * w + dx;
                if (g.StrideWidth == 1) AddRow(dst + first, src + first, last - first + 1);
                else for (int ox = first; ox <= last; ox++) dst[ox * g.StrideWidth] += src[ox];
            }
        }
    }

    /// <summary>
    /// Patch row (c, r, s) of col (rows rowStride floats apart, OH·OW when 0), channel c's input plane, the column shift
    /// dx = s·dw − pl, and the output columns [first, last] whose input column ox·sw + dx lies inside [0, W).
    /// </summary>
    private static void Tap(float* col, float* image, int c, int r, int s, in Conv2dGeometry g, long rowStride,
        out float* row, out float* plane, out int dx, out int first, out int last)
    {
        int ow = g.OutputWidth, w = g.InputWidth;
        row = col + ((c * g.KernelHeight + r) * g.KernelWidth + s) * (rowStride > 0 ? rowStride : (long)g.OutputHeight * ow);
        plane = image + (long)c * g.InputHeight * w;
        dx = s * g.DilationWidth - g.PadLeft;
        first = dx >= 0 ? 0 : (-dx + g.StrideWidth - 1) / g.StrideWidth;
        last = w - 1 - dx < 0 ? -1 : Math.Min(ow - 1, (w - 1 - dx) / g.StrideWidth);
    }

    /// <summary>dst[i] += src[i] for i &lt; length: a row of a few to a few dozen floats, inline (a library call costs more).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* dst, float* src, int length)
    {
        int i = 0;
        for (; i + 8 <= length; i += 8) (Vector256.Load(dst + i) + Vector256.Load(src + i)).Store(dst + i);
        if (i + 4 <= length)
        {
            (Vector128.Load(dst + i) + Vector128.Load(src + i)).Store(dst + i);
            i += 4;
        }
        for (; i < length; i++) dst[i] += src[i];
    }

    /// <summary>A 1×1, stride-1, unpadded convolution reads the image itself as its patch matrix.</summary>
    public static bool IsIdentity(in Conv2dGeometry g) =>
        g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0;
}
