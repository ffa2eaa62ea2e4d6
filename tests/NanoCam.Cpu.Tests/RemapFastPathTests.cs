using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The SIMD remap's compiled fast paths (RemapProgram: segment rows, blocked transposes, repeats) against the naive
/// gather bit for bit, on awkward shapes — block edges of 7, 8, 9, 17, axes of one element, negative strides, pads wider
/// than their axis, rows and whole outputs of the fill — at 1, 2 and 3 threads, with each case checked to take the path
/// it is meant to exercise.
/// </summary>
public class RemapFastPathTests
{
    private static readonly NaiveKernels Naive = NaiveKernels.Instance;
    private static readonly SimdKernels[] Simd = [new(threads: 1), new(threads: 2), new(threads: 3)];

    /// <summary>The axes of a row-major transpose of <paramref name="dims"/> by <paramref name="perm"/> (output axis k reads input axis perm[k]).</summary>
    private static RemapAxis[] Transpose(int[] dims, int[] perm)
    {
        var strides = Strides(dims);
        return [.. perm.Select(a => new RemapAxis(dims[a], dims[a], strides[a], 0, 1, BorderMode.Constant))];
    }

    private static int[] Strides(int[] dims)
    {
        var strides = new int[dims.Length];
        for (int a = dims.Length - 1, s = 1; a >= 0; s *= dims[a], a--) strides[a] = s;
        return strides;
    }

    private static void Check(RemapPlan plan, int inputSize, RemapProgram.RowKernel? expected, string name)
    {
        var program = new RemapProgram(plan);
        if (expected is { } kernel) Assert.True(!program.AllFilled && program.Kernel == kernel, $"{name}: compiled to {program.Kernel} (all filled {program.AllFilled}), not {kernel}");
        var x = Random(new Random(inputSize), Math.Max(inputSize, 1));
        var expectedOutput = Tensor.Zeros(plan.OutputDims);
        Naive.RemapForward(expectedOutput, x, plan);
        foreach (var simd in Simd)
        {
            var y = Tensor.Zeros(plan.OutputDims);
            y.Span.Fill(-12345f);   // every output must be written
            simd.RemapForward(y, x, plan);
            Assert.True(expectedOutput.ToArray().AsSpan().SequenceEqual(y.ToArray()), $"{name}, {simd.Threads} threads: differs from the naive remap");
            simd.RemapForward(y, x, plan);   // the second call runs the kept program
            Assert.True(expectedOutput.ToArray().AsSpan().SequenceEqual(y.ToArray()), $"{name}, {simd.Threads} threads, second call: differs");
        }
    }

    public static TheoryData<int[], int[]> Transposes => new()
    {
        { [1, 24, 32, 32], [0, 2, 3, 1] }, { [1, 32, 32, 24], [0, 3, 1, 2] }, { [17, 2, 16], [1, 2, 0] }, { [2, 17, 16], [0, 2, 1] },
        { [9, 8], [1, 0] }, { [8, 9], [1, 0] }, { [7, 33], [1, 0] }, { [33, 17], [1, 0] }, { [3, 16, 17], [0, 2, 1] },
        { [5, 9, 4, 11], [3, 1, 2, 0] }, { [2, 3, 40, 50], [0, 1, 3, 2] }, { [1, 3, 200, 210], [0, 2, 3, 1] },
        { [300, 129], [1, 0] }, { [1, 8, 8], [2, 0, 1] },
    };

    [Theory]
    [MemberData(nameof(Transposes))]
    public void Transpose_AgreesWithNaive(int[] dims, int[] perm)
    {
        var plan = new RemapPlan(Transpose(dims, perm));
        // The input's unit-stride axis lands just before the last output axis (both of 8 or more): a blocked transpose.
        int lastInput = dims.Length - 1;
        var kept = perm.Where(a => dims[a] > 1).ToArray();
        bool blocked = kept.Length >= 2 && kept[^2] == lastInput && dims[kept[^1]] >= 8 && dims[lastInput] >= 8 && kept[^1] != lastInput;
        Check(plan, dims.Aggregate(1, (p, d) => p * d), blocked ? RemapProgram.RowKernel.Transpose : null, $"transpose [{string.Join(", ", dims)}] by [{string.Join(", ", perm)}]");
    }

    [Fact]
    public void Transpose_WithAFlippedAxis_AgreesWithNaive()
    {
        // out[c, r] = x[r, 30 − c]: the transpose reads columns from the last one back (a negative stride).
        var plan = new RemapPlan([new RemapAxis(31, 31, 1, 30, -1, BorderMode.Constant), new RemapAxis(20, 20, 31, 0, 1, BorderMode.Constant)]);
        Check(plan, 20 * 31, null, "flip");
        var transposed = new RemapPlan([new RemapAxis(31, 31, 1, 0, 1, BorderMode.Constant), new RemapAxis(20, 20, 31, 19, -1, BorderMode.Constant)]);
        Check(transposed, 20 * 31, RemapProgram.RowKernel.Transpose, "transpose reading rows backwards");
    }

    public static TheoryData<int, int> Repeats => new() { { 1, 2 }, { 7, 2 }, { 8, 2 }, { 15, 3 }, { 16, 2 }, { 17, 4 }, { 33, 5 }, { 40000, 2 }, { 100, 8 }, { 31, 9 }, { 50, 64 }, { 1, 7 } };

    [Theory]
    [MemberData(nameof(Repeats))]
    public void RepeatEach_AgreesWithNaive(int m, int repeat)
    {
        // Nearest upsampling of a row: [rows, m, 1] expanded to [rows, m, repeat]; the row count 3 gives outer rows.
        var plan = new RemapPlan([new RemapAxis(3, 3, m, 0, 1, BorderMode.Constant), new RemapAxis(m, m, 1, 0, 1, BorderMode.Constant), new RemapAxis(repeat, 1, 1, 0, 0, BorderMode.Constant)]);
        Check(plan, 3 * m, repeat <= 8 ? RemapProgram.RowKernel.RepeatEach : RemapProgram.RowKernel.Segments, $"repeat [{m}] × {repeat}");
        // The same over a strided source (every third element, from the second one).
        var strided = new RemapPlan([new RemapAxis(m, 3 * m, 1, 1, 3, BorderMode.Constant), new RemapAxis(repeat, 1, 1, 0, 0, BorderMode.Constant)]);
        Check(strided, 3 * m, m > 1 && repeat <= 8 ? RemapProgram.RowKernel.RepeatEach : null, $"strided repeat [{m}] × {repeat}");
    }

    [Fact]
    public void NearestUpsample_BothAxesInOnePlan_AgreesWithNaive()
    {
        // [C, H, W] → [C, H, 2, W, 3]: rows repeated twice, elements three times.
        int c = 5, h = 9, w = 19;
        var plan = new RemapPlan([new RemapAxis(c, c, h * w, 0, 1, BorderMode.Constant), new RemapAxis(h, h, w, 0, 1, BorderMode.Constant),
            new RemapAxis(2, 1, w, 0, 0, BorderMode.Constant), new RemapAxis(w, w, 1, 0, 1, BorderMode.Constant), new RemapAxis(3, 1, 1, 0, 0, BorderMode.Constant)]);
        Check(plan, c * h * w, RemapProgram.RowKernel.RepeatEach, "upsample 2×3");
    }

    public static IEnumerable<object[]> Pads()
    {
        foreach (var border in Enum.GetValues<BorderMode>())
        foreach (var (before, after) in new[] { (1, 1), (0, 3), (5, 0), (30, 41), (-2, 3), (2, -4) })
            yield return [border, before, after];
    }

    [Theory]
    [MemberData(nameof(Pads))]
    public void Pad_EveryBorder_AgreesWithNaive(BorderMode border, int before, int after)
    {
        // [4, 13, 17] padded on its last two axes (negative: cropped), pads up to twice the axis (reflect folds more than once).
        int n = 4, h = 13, w = 17;
        var plan = new RemapPlan([new RemapAxis(n, n, h * w, 0, 1, border), new RemapAxis(h + before + after, h, w, -before, 1, border),
            new RemapAxis(w + before + after, w, 1, -before, 1, border)], 0.25f);
        Check(plan, n * h * w, RemapProgram.RowKernel.Segments, $"pad {border} ({before}, {after})");
    }

    [Fact]
    public void Tile_OfWideAndNarrowRows_AgreesWithNaive()
    {
        // A wide row repeated (block copies) and a row of 2 repeated 2000 times (many short runs: one table gather).
        Check(new RemapPlan([new RemapAxis(6, 3, 40, 0, 1, BorderMode.Wrap), new RemapAxis(97, 40, 1, 0, 1, BorderMode.Wrap)]), 120, RemapProgram.RowKernel.Segments, "tile wide");
        Check(new RemapPlan([new RemapAxis(5, 5, 2, 0, 1, BorderMode.Wrap), new RemapAxis(4000, 2, 1, 0, 1, BorderMode.Wrap)]), 10, RemapProgram.RowKernel.Segments, "tile narrow");
        Check(new RemapPlan([new RemapAxis(50000, 3, 1, 1, 1, BorderMode.Wrap)]), 3, RemapProgram.RowKernel.Segments, "one long row");
    }

    [Fact]
    public void SlicesAndStridedRows_AgreeWithNaive()
    {
        int[] dims = [3, 7, 41];
        // Every other element backwards on the last axis (a strided gather), rows forwards.
        Check(new RemapPlan([new RemapAxis(3, 3, 287, 0, 1, BorderMode.Constant), new RemapAxis(7, 7, 41, 0, 1, BorderMode.Constant), new RemapAxis(20, 41, 1, 40, -2, BorderMode.Constant)]),
            3 * 7 * 41, RemapProgram.RowKernel.Segments, "strided slice");
        // A channel slice of contiguous blocks, one block long enough to split across threads.
        Check(new RemapPlan([new RemapAxis(1, 1, 80000, 0, 1, BorderMode.Constant), new RemapAxis(2, 4, 20000, 1, 1, BorderMode.Constant), new RemapAxis(20000, 20000, 1, 0, 1, BorderMode.Constant)]),
            80000, RemapProgram.RowKernel.Segments, "channel slice");
        // A row with its first 3 columns cut.
        Check(new RemapPlan([new RemapAxis(21, 21, 41, 0, 1, BorderMode.Constant), new RemapAxis(38, 41, 1, 3, 1, BorderMode.Constant)]), 21 * 41, RemapProgram.RowKernel.Segments, "column crop");
        _ = dims;
    }

    [Fact]
    public void FilledRowsAndWholeFills_AgreeWithNaive()
    {
        // Rows wholly in the constant pad, and an axis of one element that lies outside: the whole output is the fill.
        Check(new RemapPlan([new RemapAxis(9, 3, 5, -3, 1, BorderMode.Constant), new RemapAxis(5, 5, 1, 0, 1, BorderMode.Constant)], 7f), 15, RemapProgram.RowKernel.Segments, "filled rows");
        Check(new RemapPlan([new RemapAxis(1, 3, 5, 4, 1, BorderMode.Constant), new RemapAxis(5, 5, 1, 0, 1, BorderMode.Constant)], 7f), 15, null, "outside axis of one");
        Check(new RemapPlan([new RemapAxis(4, 3, 5, 0, 1, BorderMode.Constant), new RemapAxis(6, 5, 1, 9, 1, BorderMode.Constant)], -2f), 15, null, "axis wholly outside");
        Assert.True(new RemapProgram(new RemapPlan([new RemapAxis(4, 3, 5, 0, 1, BorderMode.Constant), new RemapAxis(6, 5, 1, 9, 1, BorderMode.Constant)])).AllFilled);
        // Expand of a transposed operand: filled rows of a pad on the outer axis around a blocked transpose.
        Check(new RemapPlan([new RemapAxis(4, 2, 9 * 10, -1, 1, BorderMode.Constant), new RemapAxis(10, 10, 1, 0, 1, BorderMode.Constant), new RemapAxis(9, 9, 10, 0, 1, BorderMode.Constant)], 3f),
            180, RemapProgram.RowKernel.Transpose, "padded transposes");
        Check(new RemapPlan([]), 1, RemapProgram.RowKernel.Segments, "scalar");
        Check(new RemapPlan([new RemapAxis(1, 1, 1, 0, 1, BorderMode.Constant), new RemapAxis(1, 7, 1, 5, 1, BorderMode.Constant)]), 7, RemapProgram.RowKernel.Segments, "one element of seven");
    }

    [Fact]
    public void LargeTransposes_SplitAcrossThreads_AgreeWithNaive()
    {
        // One outer row: the threads split the transposed rows in blocks of 8.
        Check(new RemapPlan(Transpose([1, 37, 60, 30], [0, 2, 3, 1])), 37 * 60 * 30, RemapProgram.RowKernel.Transpose, "NCHW → NHWC, one row");
        Check(new RemapPlan([new RemapAxis(70000, 70000, 1, 0, 1, BorderMode.Constant), new RemapAxis(2, 1, 1, 0, 0, BorderMode.Constant)]), 70000, RemapProgram.RowKernel.RepeatEach, "repeat, one row");
    }
    /// <summary>The axes that lay out the kh×kw patches of [n, c, h, w] as [n, c, kh, kw, OH, OW] (a patch embedding's remap).</summary>
    private static RemapAxis[] PatchAxes(int n, int c, int h, int w, int kh, int kw) =>
    [
        new(n, n, c * h * w, 0, 1, BorderMode.Constant), new(c, c, h * w, 0, 1, BorderMode.Constant),
        new(kh, kh, w, 0, 1, BorderMode.Constant), new(kw, kw, 1, 0, 1, BorderMode.Constant),
        new(h / kh, h / kh, kh * w, 0, 1, BorderMode.Constant), new(w / kw, w / kw, kw, 0, 1, BorderMode.Constant),
    ];

    [Fact]
    public void GatherTransposes_AgreeWithNaive()
    {
        // The unit-stride axis before two or more columns axes that do not merge: 8×8 blocks whose rows come from a table.
        Check(new RemapPlan(PatchAxes(2, 3, 64, 64, 16, 16)), 2 * 3 * 64 * 64, RemapProgram.RowKernel.TransposeGather, "16×16 patches");
        Check(new RemapPlan(PatchAxes(1, 2, 35, 37, 8, 8)), 2 * 35 * 37, RemapProgram.RowKernel.TransposeGather, "8×8 patches, rows and columns left over");
        Check(new RemapPlan(PatchAxes(3, 1, 27, 27, 9, 9)), 27 * 27 * 3, RemapProgram.RowKernel.TransposeGather, "9×9 patches: block edges in rows and columns");
        Check(new RemapPlan(Transpose([4, 6, 10], [2, 1, 0])), 240, RemapProgram.RowKernel.TransposeGather, "full reversal of three axes");
        Check(new RemapPlan(Transpose([1, 40, 30, 20], [0, 3, 2, 1])), 24000, RemapProgram.RowKernel.TransposeGather, "one row split across threads");
        // A column axis read backwards, and one that starts inside its input axis.
        Check(new RemapPlan([new RemapAxis(10, 10, 1, 0, 1, BorderMode.Constant), new RemapAxis(6, 6, 10, 5, -1, BorderMode.Constant), new RemapAxis(4, 5, 60, 1, 1, BorderMode.Constant)]),
            300, RemapProgram.RowKernel.TransposeGather, "flipped and offset columns");
        // Under 8 columns in all: not a gather transpose (rows of strided segments).
        Check(new RemapPlan(PatchAxes(1, 1, 18, 27, 9, 9)), 18 * 27, RemapProgram.RowKernel.Segments, "6 columns");
    }
}
