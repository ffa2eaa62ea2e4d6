using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Core.Tests;

/// <summary>Gather: slices picked along an axis (repeated and negative indices), forward by direct indexing, backward by finite differences.</summary>
public class GatherTests
{
    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void Gather_PicksTheIndexedSlices(string backend)
    {
        var data = TapeGradientCheck.Random(new Random(1), 2, 4, 3);
        var tape = new Tape(TestBackends.Get(backend)) { GradEnabled = false };
        var y = tape.Gather(data, 1, [3, 0, -1, 3]);
        Assert.Equal([2, 4, 3], y.Shape.ToArray());
        int[] picked = [3, 0, 3, 3];
        for (int o = 0; o < 2; o++)
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 3; i++)
                    Assert.Equal(data[o, picked[j], i], y[o, j, i]);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void Gather_MatchesFiniteDifferences_WithARepeatedIndex(string backend)
    {
        var data = TapeGradientCheck.Random(new Random(2), 3, 5, 2);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.Gather(data, -2, [4, 1, 4]), [data]);
        TapeGradientCheck.Check(TestBackends.Get(backend), t => t.Gather(data, 0, [2, 0]), [data]);
    }

    [Fact]
    public void Gather_OutOfRangeIndex_NamesItAndTheShape()
    {
        var tape = new Tape(TestBackends.Get("naive"));
        var ex = Assert.Throws<ArgumentException>(() => tape.Gather(Tensor.Zeros(2, 3), 1, [3]));
        Assert.Contains("index 3 is out of range for axis 1 of", ex.Message);
    }
}
