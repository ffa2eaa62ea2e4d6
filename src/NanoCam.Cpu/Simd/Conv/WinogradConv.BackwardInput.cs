using NanoCam.Cpu.Threading;

namespace NanoCam.Cpu.Simd.Conv;

/// <summary>
/// The input gradient of a 3×3, stride-1, undilated convolution as one more forward Winograd convolution. With
/// pads (pt, pl, pb, pr), dX[c, y, x] = Σ_k Σ_{r,s} dY[k, y + pt − r, x + pl − s] · W[k, c, r, s]; putting r′ = 2 − r,
/// s′ = 2 − s this is the forward sum of dY (channels K) with the filter
///   W′[c, k, r′, s′] = W[k, c, 2 − r′, 2 − s′]   (input and output channels swapped, the kernel turned 180°)
/// under pads (2 − pt, 2 − pl, 2 − pb, 2 − pr), whose output is H × W again. dX is accumulated (dX += …), as every
/// backward kernel does, or written when it is the first gradient to reach dX (its old contents are then ignored).
/// </summary>
public sealed unsafe partial class WinogradConv
{
    private float[] _turned = [];

    /// <summary>Whether <see cref="BackwardInput"/> takes this geometry: the turned convolution is one <see cref="Applies"/> takes.</summary>
    public static bool AppliesBackwardInput(in Conv2dGeometry g) =>
        g.PadTop <= 2 && g.PadLeft <= 2 && g.PadBottom <= 2 && g.PadRight <= 2
        && g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 1 && g.StrideWidth == 1
        && Applies(Turned(g));

    /// <summary>dx[n] += ∂L/∂x[n] (dx[n] = … unless <paramref name="accumulate"/>) from dy[n] for images [first, end) of the forward geometry g (weight w as in the forward pass).</summary>
    public void BackwardInput(in Conv2dGeometry g, int first, int end, float* dx, float* dy, float* w, CpuThreadPool? pool, bool accumulate = true)
    {
        Grow(ref _turned, g.WeightSize);
        float* turned = Pointer(_turned);
        int cg = g.InputChannelsPerGroup, kg = g.OutputChannelsPerGroup;
        for (int group = 0; group < g.Groups; group++)
        for (int k = 0; k < kg; k++)
        for (int c = 0; c < cg; c++)
        {
            // W[group·kg + k, c] → W′[group·cg + c, k], reversed (the 9 taps read backwards).
            float* source = w + ((long)(group * kg + k) * cg + c) * 9;
            float* target = turned + ((long)(group * cg + c) * kg + k) * 9;
            for (int tap = 0; tap < 9; tap++) target[tap] = source[8 - tap];
        }
        Convolve(Turned(g), first, end, dx, dy, turned, null, accumulate, pool);
    }

    /// <summary>The forward geometry whose output is dX: input dY (K channels, OH × OW), K → C channels, pads 2 − p.</summary>
    private static Conv2dGeometry Turned(in Conv2dGeometry g) => g with
    {
        InputChannels = g.OutputChannels,
        InputHeight = g.OutputHeight,
        InputWidth = g.OutputWidth,
        OutputChannels = g.InputChannels,
        PadTop = 2 - g.PadTop,
        PadLeft = 2 - g.PadLeft,
        PadBottom = 2 - g.PadBottom,
        PadRight = 2 - g.PadRight,
    };
}
