namespace NanoCam.Cpu.Simd;

/// <summary>
/// NumPy broadcasting of a and b to an output as a few strided axes: the output's axes of size 1 are dropped and
/// neighbours that stay contiguous in both operands are merged (a bias [C,1,1] over [N,C,H,W] becomes [N, C, H·W] with
/// a's strides [C·H·W, H·W, 1] and b's [0, 1, 0]). The output is row-major over <see cref="Dims"/>; a row is the last axis,
/// where each operand's stride is 1 (it varies along it) or 0 (it is broadcast along it). Reused from call to call: its
/// arrays only grow.
/// </summary>
internal sealed class BroadcastLayout
{
    private int[] _dims = new int[4], _strideA = new int[4], _strideB = new int[4];

    public int Rank { get; private set; }
    public ReadOnlySpan<int> Dims => _dims.AsSpan(0, Rank);
    public ReadOnlySpan<int> StridesA => _strideA.AsSpan(0, Rank);
    public ReadOnlySpan<int> StridesB => _strideB.AsSpan(0, Rank);

    /// <summary>Elements per row (the last axis).</summary>
    public int Columns => _dims[Rank - 1];

    /// <summary>Number of rows: the product of every axis but the last.</summary>
    public int Rows { get; private set; }

    public void Build(Shape output, Shape a, Shape b)
    {
        int rank = output.Rank;
        if (a.Rank > rank || b.Rank > rank) throw new ArgumentException($"broadcast: output {output} has lower rank than {a} or {b}");
        if (_dims.Length < rank + 1)
        {
            _dims = new int[rank + 1];
            _strideA = new int[rank + 1];
            _strideB = new int[rank + 1];
        }
        // From the innermost axis out; each operand's row-major stride grows by its own size on the axis.
        int count = 0, rowStrideA = 1, rowStrideB = 1;
        for (int k = rank - 1; k >= 0; k--)
        {
            int d = output[k];
            int da = k - (rank - a.Rank) >= 0 ? a[k - (rank - a.Rank)] : 1;
            int db = k - (rank - b.Rank) >= 0 ? b[k - (rank - b.Rank)] : 1;
            if ((da != d && da != 1) || (db != d && db != 1)) throw new ArgumentException($"broadcast: {a} and {b} do not broadcast to {output}");
            int sa = da == 1 ? 0 : rowStrideA, sb = db == 1 ? 0 : rowStrideB;
            rowStrideA *= da;
            rowStrideB *= db;
            if (d == 1) continue;
            if (count > 0 && sa == _strideA[count - 1] * _dims[count - 1] && sb == _strideB[count - 1] * _dims[count - 1])
            {
                _dims[count - 1] *= d;   // contiguous continuation of the inner axis in both operands (or broadcast in both)
                continue;
            }
            (_dims[count], _strideA[count], _strideB[count]) = (d, sa, sb);
            count++;
        }
        if (count == 0) (_dims[0], _strideA[0], _strideB[0], count) = (1, 0, 0, 1);
        Array.Reverse(_dims, 0, count);
        Array.Reverse(_strideA, 0, count);
        Array.Reverse(_strideB, 0, count);
        Rank = count;
        int rows = 1;
        for (int k = 0; k < count - 1; k++) rows *= _dims[k];
        Rows = rows;
    }

    /// <summary>Where row <paramref name="row"/> starts in a and in b.</summary>
    public void RowOffsets(int row, out int offsetA, out int offsetB)
    {
        offsetA = offsetB = 0;
        for (int k = Rank - 2; k >= 0; k--)
        {
            int d = _dims[k], coordinate = row % d;
            row /= d;
            offsetA += coordinate * _strideA[k];
            offsetB += coordinate * _strideB[k];
        }
    }

    /// <summary>
    /// The axis to split work along: the longest one where every operand in <paramref name="mustVaryA"/> /
    /// <paramref name="mustVaryB"/> varies (stride ≠ 0), so that different parts never write one element of its gradient;
    /// −1 if none.
    /// </summary>
    public int SplitAxis(bool mustVaryA, bool mustVaryB)
    {
        int best = -1;
        for (int k = 0; k < Rank; k++)
        {
            if (_dims[k] < 2 || (mustVaryA && _strideA[k] == 0) || (mustVaryB && _strideB[k] == 0)) continue;
            if (best < 0 || _dims[k] > _dims[best]) best = k;
        }
        return best;
    }
}
