namespace NanoCam.Cpu;

/// <summary>
/// NumPy broadcasting as index arithmetic: for a flat index into the output, the flat indices into a and b.
/// Shapes align on the right; an operand's axis of size 1 (or a missing leading axis) has stride 0.
/// </summary>
internal readonly struct BroadcastMap
{
    private readonly int[] _outDims, _strideA, _strideB;

    public BroadcastMap(Shape output, Shape a, Shape b)
    {
        int rank = output.Rank;
        if (a.Rank > rank || b.Rank > rank) throw new ArgumentException($"broadcast: output {output} has lower rank than {a} or {b}");
        _outDims = output.ToArray();
        _strideA = Strides(output, a, "a");
        _strideB = Strides(output, b, "b");
    }

    private static int[] Strides(Shape output, Shape operand, string name)
    {
        int rank = output.Rank, lead = rank - operand.Rank;
        var strides = new int[rank];
        int stride = 1;
        for (int i = rank - 1; i >= lead; i--)
        {
            int d = operand[i - lead];
            if (d != output[i] && d != 1) throw new ArgumentException($"broadcast: operand {name} {operand} does not broadcast to {output}");
            strides[i] = d == 1 ? 0 : stride;
            stride *= d;
        }
        return strides;
    }

    public (int A, int B) Offsets(int flat)
    {
        int ia = 0, ib = 0;
        for (int axis = _outDims.Length - 1; axis >= 0; axis--)
        {
            int d = _outDims[axis];
            int coordinate = flat % d;
            flat /= d;
            ia += coordinate * _strideA[axis];
            ib += coordinate * _strideB[axis];
        }
        return (ia, ib);
    }
}
