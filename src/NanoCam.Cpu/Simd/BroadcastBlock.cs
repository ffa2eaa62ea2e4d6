namespace NanoCam.Cpu.Simd;

/// <summary>
/// The common bias-like broadcast: an operand whose non-1 axes form one contiguous run equal to the output's axes
/// there, so the output is [Outer, Middle, Inner] and the operand is [Middle] (a conv bias [C,1,1] over [N,C,H,W]:
/// Outer = N, Middle = C, Inner = H·W; a linear bias [K] over [N,K]: Outer = N, Middle = K, Inner = 1; a single value:
/// Outer = Middle = 1, Inner = the output's size).
/// </summary>
internal readonly record struct BroadcastBlock(int Outer, int Middle, int Inner)
{
    public static BroadcastBlock? Of(Shape output, Shape operand)
    {
        int rank = output.Rank, lead = rank - operand.Rank;
        if (lead < 0) return null;
        int first = -1, last = -1;
        for (int axis = 0; axis < rank; axis++)
        {
            int d = axis < lead ? 1 : operand[axis - lead];
            if (d == 1 && output[axis] != 1) continue;
            if (d != output[axis]) return null;
            if (output[axis] == 1) continue;
            if (first < 0) first = axis;
            else if (last != axis - 1) return null;
            last = axis;
        }
        // A single value (every axis 1): one block of it repeated over the whole output.
        if (first < 0) return new BroadcastBlock(1, 1, output.Product(0, rank));
        return new BroadcastBlock(output.Product(0, first), output.Product(first, last + 1), output.Product(last + 1, rank));
    }
}
