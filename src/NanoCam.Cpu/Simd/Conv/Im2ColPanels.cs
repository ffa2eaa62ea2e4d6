using NanoCam.Cpu.Simd.Gemm;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// The patch matrix of a run of images (one channel group each; see <see cref="Im2Col"/>) as a GEMM operand that is
/// never stored: each Nr-column panel is gathered straight from the images into the GEMM's packed-B layout (implicit
/// GEMM). Row q = (c·R + r)·S + s, column j = (n·OH + oy)·OW + ox; image n starts imageStride floats after image n − 1.
/// With a 1×1 geometry this is a stack of NCHW planes read as one [C, N·H·W] matrix.
/// </summary>
public readonly unsafe struct Im2ColPanels(float* image, Conv2dGeometry g, long imageStride) : IPanelSource
{
    public void Pack(float* dst, int pc, int kc, int col, int valid, int nr)
    {
        int oh = g.OutputHeight, ow = g.OutputWidth, h = g.InputHeight, w = g.InputWidth, sw = g.StrideWidth;
        int kh = g.KernelHeight, kw = g.KernelWidth, sh = g.StrideHeight;
        // Where the panel starts (image n0, output row oy0, column ox0): the same for every p.
        int n0 = col / (oh * ow), oy0 = col % (oh * ow) / ow, ox0 = col % ow;
        // Row q = (c·R + r)·S + s, advanced incrementally from pc.
        int s = pc % kw, r = pc / kw % kh, c = pc / (kw * kh);
        for (int p = 0; p < kc; p++, s = s + 1 == kw ? 0 : s + 1, r = s != 0 ? r : r + 1 == kh ? 0 : r + 1, c = s != 0 || r != 0 ? c : c + 1)
        {
            float* d = dst + p * nr;
            int dx = s * g.DilationWidth - g.PadLeft, dy = r * g.DilationHeight - g.PadTop;
            // Output columns whose input column ox·sw + dx lies inside [0, w) (as in Im2Col.Gather).
            int first, last;
            if (sw == 1) (first, last) = (Math.Max(0, -dx), Math.Min(ow - 1, w - 1 - dx));
            else if (sw == 2)
            {
                // The same bounds with shifts for the halvings (both operands are non-negative there): no divisions per row.
                first = dx >= 0 ? 0 : (1 - dx) >> 1;
                last = w - 1 - dx < 0 ? -1 : Math.Min(ow - 1, (w - 1 - dx) >> 1);
            }
            else
            {
                first = dx >= 0 ? 0 : (-dx + sw - 1) / sw;
                last = w - 1 - dx < 0 ? -1 : Math.Min(ow - 1, (w - 1 - dx) / sw);
            }
            int oy = oy0, ox = ox0;
            float* plane = image + n0 * imageStride + (long)c * h * w;
            for (int j = 0; j < valid; oy++, ox = 0)
            {
                if (oy == oh)
                {
                    oy = 0;
                    plane += imageStride;
                }
                int run = Math.Min(valid - j, ow - ox), end = ox + run;
                int iy = oy * sh + dy;
                int lo = Math.Max(ox, first), hi = Math.Min(end, last + 1);
                if ((uint)iy >= (uint)h || lo >= hi)
                {
                    PanelCopy.Zero(d + j, run);
                }
                else
                {
                    float* src = plane + (long)iy * w + dx;
                    PanelCopy.Zero(d + j, lo - ox);
                    float* seg = d + j - ox;
                    if (sw == 1) PanelCopy.Copy(seg + lo, src + lo, hi - lo);
                    else if (sw == 2) StridedCopy.Evens(seg, src, lo, hi, w - dx);
                    else for (int x = lo; x < hi; x++) seg[x] = src[x * sw];
                    PanelCopy.Zero(seg + hi, end - hi);
                }
                j += run;
            }
            PanelCopy.Zero(d + valid, nr - valid);
        }
    }
}
