namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    // Window (oy, ox) covers input rows iy = oy·sh − pt + r·dh for r < kh (likewise columns).

    public void MaxPool2dForward(Tensor output, Tensor? argmax, Tensor input, Pool2dGeometry g)
    {
        Check.Pool(g, output, input, "maxpool2d");
        var y = output.Span;
        var am = argmax is null ? default : argmax.Span;
        var x = input.Span;
        int oh = g.OutputHeight, ow = g.OutputWidth, plane = g.InputHeight * g.InputWidth;
        for (int nc = 0; nc < g.Batch * g.Channels; nc++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            var (best, bestIndex) = MaxWindow(x.Slice(nc * plane, plane), g, oy, ox);
            int o = (nc * oh + oy) * ow + ox;
            y[o] = best;
            if (argmax is not null) am[o] = bestIndex;
        }
    }

    /// <summary>
    /// The maximum of window (oy, ox) of one plane and its index iy·W + ix: taps in order (r, then s), the first maximum
    /// wins, a NaN wins over numbers and stays (as PyTorch); (−∞, −1) for a window with no tap inside the input.
    /// </summary>
    internal static (float Best, int Index) MaxWindow(ReadOnlySpan<float> plane, in Pool2dGeometry g, int oy, int ox)
    {
        float best = float.NegativeInfinity;
        int bestIndex = -1;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if ((uint)iy >= (uint)g.InputHeight) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                if ((uint)ix >= (uint)g.InputWidth) continue;
                float v = plane[iy * g.InputWidth + ix];
                if (v > best || bestIndex < 0 || float.IsNaN(v) && !float.IsNaN(best)) { best = v; bestIndex = iy * g.InputWidth + ix; }
            }
        }
        return (best, bestIndex);
    }

    /// <summary>The gradient goes to the cell that won the max.</summary>
    public void MaxPool2dBackward(Tensor dInput, Tensor dOutput, Tensor argmax, Pool2dGeometry g, bool accumulate = true)
    {
        if (!accumulate) Fill(dInput, 0f);
        var dx = dInput.Span;
        var dy = dOutput.Span;
        var am = argmax.Span;
        int outPlane = g.OutputHeight * g.OutputWidth, plane = g.InputHeight * g.InputWidth;
        for (int nc = 0; nc < g.Batch * g.Channels; nc++)
        for (int o = 0; o < outPlane; o++)
        {
            int index = (int)am[nc * outPlane + o];
            if (index >= 0) dx[nc * plane + index] += dy[nc * outPlane + o];
        }
    }

    public void AvgPool2dForward(Tensor output, Tensor input, Pool2dGeometry g, bool countIncludePad)
    {
        Check.Pool(g, output, input, "avgpool2d");
        var y = output.Span;
        var x = input.Span;
        int oh = g.OutputHeight, ow = g.OutputWidth, plane = g.InputHeight * g.InputWidth;
        for (int nc = 0; nc < g.Batch * g.Channels; nc++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            y[(nc * oh + oy) * ow + ox] = AvgWindow(x.Slice(nc * plane, plane), g, oy, ox, countIncludePad);
    }

    /// <summary>The mean of window (oy, ox) of one plane: taps inside the input summed from 0 in order (r, then s), over <see cref="AvgPoolDivisor"/>.</summary>
    internal static float AvgWindow(ReadOnlySpan<float> plane, in Pool2dGeometry g, int oy, int ox, bool countIncludePad)
    {
        float sum = 0;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if ((uint)iy >= (uint)g.InputHeight) continue;
            for (int s = 0; s < g.KernelWidth; s++)
            {
                int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                if ((uint)ix < (uint)g.InputWidth) sum += plane[iy * g.InputWidth + ix];
            }
        }
        return sum / AvgPoolDivisor(g, oy, ox, countIncludePad);
    }

    public void AvgPool2dBackward(Tensor dInput, Tensor dOutput, Pool2dGeometry g, bool countIncludePad)
    {
        var dx = dInput.Span;
        var dy = dOutput.Span;
        int oh = g.OutputHeight, ow = g.OutputWidth, plane = g.InputHeight * g.InputWidth;
        for (int nc = 0; nc < g.Batch * g.Channels; nc++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            float share = dy[(nc * oh + oy) * ow + ox] / AvgPoolDivisor(g, oy, ox, countIncludePad);
            for (int r = 0; r < g.KernelHeight; r++)
            {
                int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
                if ((uint)iy >= (uint)g.InputHeight) continue;
                for (int s = 0; s < g.KernelWidth; s++)
                {
                    int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                    if ((uint)ix < (uint)g.InputWidth) dx[nc * plane + iy * g.InputWidth + ix] += share;
                }
            }
        }
    }

    /// <summary>
    /// The number of cells averaged by window (oy, ox): with countIncludePad, the taps inside the padded input
    /// [−padBegin, size + padEnd) (a ceil-mode window hanging past the padding does not count the overhang, as PyTorch and ONNX);
    /// without, only the taps inside the input.
    /// </summary>
    public static int AvgPoolDivisor(Pool2dGeometry g, int oy, int ox, bool countIncludePad)
    {
        int rows = 0, cols = 0;
        for (int r = 0; r < g.KernelHeight; r++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
            if (countIncludePad ? iy >= -g.PadTop && iy < g.InputHeight + g.PadBottom : (uint)iy < (uint)g.InputHeight) rows++;
        }
        for (int s = 0; s < g.KernelWidth; s++)
        {
            int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
            if (countIncludePad ? ix >= -g.PadLeft && ix < g.InputWidth + g.PadRight : (uint)ix < (uint)g.InputWidth) cols++;
        }
        return Math.Max(1, rows * cols);
    }

    public void GlobalAvgPoolForward(Tensor output, Tensor input)
    {
        var y = output.Span;
        var x = input.Span;
        int planes = input.Shape[0] * input.Shape[1], plane = input.Shape.Product(2, input.Shape.Rank);
        if (y.Length != planes) throw new ArgumentException($"global average pool: output {output.Shape} does not match input {input.Shape}");
        for (int p = 0; p < planes; p++)
        {
            float sum = 0;
            for (int i = 0; i < plane; i++) sum += x[p * plane + i];
            y[p] = sum / plane;
        }
    }

    /// <summary>Each of the H·W cells receives dy/(H·W).</summary>
    public void GlobalAvgPoolBackward(Tensor dInput, Tensor dOutput, bool accumulate = true)
    {
        if (!accumulate) Fill(dInput, 0f);
        var dx = dInput.Span;
        var dy = dOutput.Span;
        int planes = dInput.Shape[0] * dInput.Shape[1], plane = dInput.Shape.Product(2, dInput.Shape.Rank);
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < plane; i++)
            dx[p * plane + i] += dy[p] / plane;
    }
}
