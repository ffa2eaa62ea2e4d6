namespace NanoCam.Cpu.Tests;

/// <summary>
/// Geometries on narrow maps (at most 8 tile columns: masked loads and stores straight from and to the tensors) that
/// the forward, input-gradient and weight-gradient tests each add to their own cases.
/// </summary>
internal static class WinogradNarrowCases
{
    /// <summary>Adds the narrow cases (batch, C, H, W, K, padTop, padLeft, padBottom, padRight, groups) to <paramref name="cases"/>.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int, int, int> AddTo(TheoryData<int, int, int, int, int, int, int, int, int, int> cases)
    {
        cases.Add(40, 16, 5, 5, 16, 1, 1, 1, 1, 1);     // 3 tile columns, two tile rows per vector; 3 tile rows: a pair and a single
        cases.Add(8, 16, 7, 7, 24, 0, 2, 2, 0, 1);      // 7×7 with uneven padding (left 2, right 0; top 0, bottom 2)
        cases.Add(16, 16, 13, 13, 16, 2, 0, 1, 2, 1);   // 14×13 output, 7 tile columns: one tile row per vector, uneven padding
        cases.Add(6, 16, 16, 17, 16, 1, 0, 1, 0, 1);    // 8 tile columns: padded columns 16 and 17 (both on the map) from a second load
        cases.Add(6, 16, 16, 16, 16, 1, 1, 1, 1, 1);    // 8 tile columns: padded column 16 on the map, 17 the right pad
        cases.Add(32, 32, 7, 5, 32, 1, 0, 1, 2, 2);     // 3 tile columns, two groups, 4 tile rows
        return cases;
    }
}
