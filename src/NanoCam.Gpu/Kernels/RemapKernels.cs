using ILGPU;

namespace NanoCam.Gpu.Kernels;

/// <summary>
/// Remap (see RemapPlan), one thread per output element: the output index is decomposed into per-axis coordinates, each
/// mapped to an input coordinate Start + Step·i and resolved at the border. The plan travels as <see cref="RemapIndex"/>.
/// </summary>
internal static class RemapKernels
{
    /// <summary>y[i] = x[offset(i)], or the fill.</summary>
    public static void Forward(Index1D i, ArrayView<float> y, ArrayView<float> x, RemapIndex plan)
    {
        int offset = plan.InputOffset(i);
        y[i] = offset < 0 ? plan.Fill : x[offset];
    }

    /// <summary>dx[offset(i)] += dy[i]: atomically, unless the plan reads each input once (<paramref name="direct"/> ≠ 0).</summary>
    public static void Backward(Index1D i, ArrayView<float> dx, ArrayView<float> dy, RemapIndex plan, int direct)
    {
        int offset = plan.InputOffset(i);
        if (offset < 0) return;
        if (direct != 0) dx[offset] += dy[i];
        else Atomic.Add(ref dx[offset], dy[i]);
    }
}

/// <summary>
/// A <see cref="RemapPlan"/> as a kernel argument: up to six axes (after <see cref="RemapPlan.Coalesced"/>), in fixed
/// fields because a kernel argument cannot hold arrays. Unused leading slots are single-element axes that read offset 0.
/// </summary>
internal readonly struct RemapIndex
{
    public const int MaxRank = 6;
    private readonly Axis _a0, _a1, _a2, _a3, _a4, _a5;

    public float Fill { get; }

    public RemapIndex(RemapPlan plan)
    {
        var p = plan.Coalesced();
        if (p.Rank > MaxRank) throw new ArgumentException($"remap: the ILGPU backend handles plans of up to {MaxRank} axes after merging, got {p.Rank} ({plan})");
        Span<Axis> axes = stackalloc Axis[MaxRank];
        axes.Fill(new Axis(1, 1, 0, 0, 0, 0));
        for (int a = 0; a < p.Rank; a++)
        {
            var x = p.Axes[a];
            axes[MaxRank - p.Rank + a] = new Axis(x.OutputSize, x.InputSize, x.InputStride, x.Start, x.Step, (int)x.Border);
        }
        (_a0, _a1, _a2, _a3, _a4, _a5) = (axes[0], axes[1], axes[2], axes[3], axes[4], axes[5]);
        Fill = p.Fill;
    }

    /// <summary>The input offset output element <paramref name="flat"/> reads, or −1 where a constant border fills it.</summary>
    public int InputOffset(int flat)
    {
        int offset = 0, filled = 0;
        _a5.Step(ref flat, ref offset, ref filled);
        _a4.Step(ref flat, ref offset, ref filled);
        _a3.Step(ref flat, ref offset, ref filled);
        _a2.Step(ref flat, ref offset, ref filled);
        _a1.Step(ref flat, ref offset, ref filled);
        _a0.Step(ref flat, ref offset, ref filled);
        return filled != 0 ? -1 : offset;
    }

    /// <summary>One axis: coordinate i = flat mod OutputSize reads c = Start + Step·i, resolved by the border (as RemapPlan.Resolve).</summary>
    private readonly struct Axis(int outputSize, int inputSize, int stride, int start, int step, int border)
    {
        private readonly int _outputSize = outputSize, _inputSize = inputSize, _stride = stride, _start = start, _step = step, _border = border;

        public void Step(ref int flat, ref int offset, ref int filled)
        {
            int i = flat % _outputSize;
            flat /= _outputSize;
            int n = _inputSize, c = _start + _step * i;
            if (c < 0 || c >= n)
            {
                if (_border == (int)BorderMode.Edge) c = c < 0 ? 0 : n - 1;
                else if (_border == (int)BorderMode.Reflect)
                {
                    int period = 2 * (n - 1);
                    if (period == 0) c = 0;
                    else
                    {
                        int m = ((c % period) + period) % period;
                        c = m < n ? m : period - m;
                    }
                }
                else if (_border == (int)BorderMode.Wrap) c = ((c % n) + n) % n;
                else
                {
                    filled = 1;
                    return;
                }
            }
            offset += c * _stride;
        }
    }
}
