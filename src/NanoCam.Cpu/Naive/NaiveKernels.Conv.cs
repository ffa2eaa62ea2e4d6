namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    // Direct convolution, the definition written as loops (cross-correlation, as every framework computes):
    //   y[n,k,oy,ox] = b[k] + Σ_{c∈group(k), r, s} x[n, c, oy·sh − pt + r·dh, ox·sw − pl + s·dw] · w[k, c − c0, r, s]
    // Positions outside the input read zero (padding).

    public void Conv2dForward(Tensor output, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g)
    {
        Check.Conv(g, output, input, weight);
        var y = output.Span;
        var x = input.Span;
        var w = weight.Span;
        var b = bias is null ? ReadOnlySpan<float>.Empty : bias.Span;
        int cpg = g.InputChannelsPerGroup, kpg = g.OutputChannelsPerGroup, oh = g.OutputHeight, ow = g.OutputWidth;
        for (int n = 0; n < g.Batch; n++)
        for (int k = 0; k < g.OutputChannels; k++)
        {
            int c0 = k / kpg * cpg;
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                float sum = bias is null ? 0 : b[k];
                for (int c = 0; c < cpg; c++)
                for (int r = 0; r < g.KernelHeight; r++)
                {
                    int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
                    if ((uint)iy >= (uint)g.InputHeight) continue;
                    for (int s = 0; s < g.KernelWidth; s++)
                    {
                        int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                        if ((uint)ix >= (uint)g.InputWidth) continue;
                        sum += x[((n * g.InputChannels + c0 + c) * g.InputHeight + iy) * g.InputWidth + ix]
                             * w[((k * cpg + c) * g.KernelHeight + r) * g.KernelWidth + s];
                    }
                }
                y[((n * g.OutputChannels + k) * oh + oy) * ow + ox] = sum;
            }
        }
    }

    /// <summary>∂L/∂x: every input cell collects dy·w from each output position whose window covered it.</summary>
    public void Conv2dBackwardInput(Tensor dInput, Tensor dOutput, Tensor weight, Conv2dGeometry g, bool accumulate = true)
    {
        Check.Conv(g, dOutput, dInput, weight);
        if (!accumulate) Fill(dInput, 0f);
        float[] dx = dInput.Data, dy = dOutput.Data, w = weight.Data;
        ForEachTap(g, (n, k, oy, ox, c, r, s, iy, ix) =>
        {
            dx[((n * g.InputChannels + c) * g.InputHeight + iy) * g.InputWidth + ix] +=
                dy[((n * g.OutputChannels + k) * g.OutputHeight + oy) * g.OutputWidth + ox]
                * w[((k * g.InputChannelsPerGroup + c % g.InputChannelsPerGroup) * g.KernelHeight + r) * g.KernelWidth + s];
        });
    }

    /// <summary>∂L/∂w[k,c,r,s] = Σ_{n,oy,ox} dy[n,k,oy,ox] · x[n, c, iy, ix].</summary>
    public void Conv2dBackwardWeight(Tensor dWeight, Tensor dOutput, Tensor input, Conv2dGeometry g)
    {
        Check.Conv(g, dOutput, input, dWeight);
        float[] dw = dWeight.Data, dy = dOutput.Data, x = input.Data;
        ForEachTap(g, (n, k, oy, ox, c, r, s, iy, ix) =>
        {
            dw[((k * g.InputChannelsPerGroup + c % g.InputChannelsPerGroup) * g.KernelHeight + r) * g.KernelWidth + s] +=
                dy[((n * g.OutputChannels + k) * g.OutputHeight + oy) * g.OutputWidth + ox]
                * x[((n * g.InputChannels + c) * g.InputHeight + iy) * g.InputWidth + ix];
        });
    }

    public void Conv2dBackwardBias(Tensor dBias, Tensor dOutput)
    {
        var db = dBias.Span;
        var dy = dOutput.Span;
        int n = dOutput.Shape[0], k = dOutput.Shape[1], plane = dOutput.Shape.Product(2, dOutput.Shape.Rank);
        for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++)
        for (int p = 0; p < plane; p++)
            db[j] += dy[(i * k + j) * plane + p];
    }

    private delegate void TapAction(int n, int k, int oy, int ox, int c, int r, int s, int iy, int ix);

    /// <summary>Visits every (output position, weight tap) pair that reads an in-bounds input cell.</summary>
    private static void ForEachTap(Conv2dGeometry g, TapAction action)
    {
        int cpg = g.InputChannelsPerGroup, kpg = g.OutputChannelsPerGroup;
        for (int n = 0; n < g.Batch; n++)
        for (int k = 0; k < g.OutputChannels; k++)
        {
            int c0 = k / kpg * cpg;
            for (int oy = 0; oy < g.OutputHeight; oy++)
            for (int ox = 0; ox < g.OutputWidth; ox++)
            for (int c = c0; c < c0 + cpg; c++)
            for (int r = 0; r < g.KernelHeight; r++)
            {
                int iy = oy * g.StrideHeight - g.PadTop + r * g.DilationHeight;
                if ((uint)iy >= (uint)g.InputHeight) continue;
                for (int s = 0; s < g.KernelWidth; s++)
                {
                    int ix = ox * g.StrideWidth - g.PadLeft + s * g.DilationWidth;
                    if ((uint)ix >= (uint)g.InputWidth) continue;
                    action(n, k, oy, ox, c, r, s, iy, ix);
                }
            }
        }
    }

}
