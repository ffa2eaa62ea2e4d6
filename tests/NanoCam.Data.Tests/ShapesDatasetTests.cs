
namespace NanoCam.Data.Tests;

public class ShapesDatasetTests
{
    [Fact]
    public void SameSeed_GivesIdenticalImages_AnyIndexAlone_AnyThread()
    {
        var a = new ShapesDataset(500, seed: 11);
        var b = new ShapesDataset(500, seed: 11);
        var parallel = new float[20][];
        Parallel.For(0, 20, i => parallel[i] = b.GetImage(499 - i));
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(a.GetImage(499 - i), parallel[i]);
            Assert.Equal(a.GetLabel(499 - i), b.GetLabel(499 - i));
        }
        Assert.NotEqual(a.GetImage(3), new ShapesDataset(500, seed: 12).GetImage(3));
    }

    [Fact]
    public void Images_AreRgb64InUnitRange_AndAllClassesAppearBalanced()
    {
        var shapes = new ShapesDataset(1200, seed: 3);
        Assert.Equal((3, 64, 64), (shapes.Channels, shapes.Height, shapes.Width));
        Assert.Equal(["circle", "square", "triangle", "cross", "star", "ring"], shapes.ClassNames);
        Assert.All(shapes.GetImage(0), v => Assert.InRange(v, 0f, 1f));
        var counts = new int[6];
        for (int i = 0; i < shapes.Count; i++) counts[shapes.GetLabel(i)]++;
        Assert.All(counts, c => Assert.InRange(c, 140, 260));
    }

    [Fact]
    public void Boxes_AreInsideTheImage_AndTightAroundTheTarget()
    {
        var shapes = new ShapesDataset(300, seed: 5);
        var mask = new float[64 * 64];
        for (int i = 0; i < shapes.Count; i++)
        {
            Box box = shapes.GetBox(i) ?? throw new Xunit.Sdk.XunitException($"image {i} has no box");
            Assert.InRange(box.X0, 0, box.X1);
            Assert.InRange(box.Y0, 0, box.Y1);
            Assert.InRange(box.X1, box.X0, 63);
            Assert.InRange(box.Y1, box.Y0, 63);
            // Equal-area diameters 20–32 px: from an unrotated square of side 0.8·√(π/4/0.64)·20 ≈ 18 px to a star of
            // circumradius 0.55·1.40·32 ≈ 25 px (a box side of at most 50 px).
            Assert.InRange(Math.Max(box.Width, box.Height), 17, 50);

            shapes.GetMask(i, mask);
            bool Target(int x, int y) => mask[y * 64 + x] >= 0.5f;
            // Every edge of the box touches a target pixel, and no target pixel lies outside it.
            Assert.Contains(Enumerable.Range(box.X0, box.Width), x => Target(x, box.Y0));
            Assert.Contains(Enumerable.Range(box.X0, box.Width), x => Target(x, box.Y1));
            Assert.Contains(Enumerable.Range(box.Y0, box.Height), y => Target(box.X0, y));
            Assert.Contains(Enumerable.Range(box.Y0, box.Height), y => Target(box.X1, y));
            for (int y = 0; y < 64; y++)
                for (int x = 0; x < 64; x++)
                    if (Target(x, y)) Assert.True(box.Contains(x, y), $"image {i}: target pixel ({x},{y}) outside {box}");
        }
    }

    [Fact]
    public void EveryClass_CoversTheSameAreas_SoTheAmountOfBackgroundIsNoClue()
    {
        // Size D (the equal-area diameter) is uniform in [20, 32]: area π/4·D², mean π/4·E[D²] = π/4·(32³ − 20³)/(3·12) ≈ 540 px².
        var shapes = new ShapesDataset(1200, seed: 4);
        var mask = new float[64 * 64];
        var sum = new double[6];
        var count = new int[6];
        for (int i = 0; i < shapes.Count; i++)
        {
            shapes.GetMask(i, mask);
            double area = mask.Sum();
            Assert.InRange(area, 0.95 * Math.PI / 4 * 20 * 20, 1.05 * Math.PI / 4 * 32 * 32);
            sum[shapes.GetLabel(i)] += area;
            count[shapes.GetLabel(i)]++;
        }
        double expected = Math.PI / 4 * (32.0 * 32 * 32 - 20.0 * 20 * 20) / (3 * 12);
        for (int c = 0; c < 6; c++)
            Assert.True(Math.Abs(sum[c] / count[c] / expected - 1) < 0.08, $"{shapes.ClassNames[c]}: mean area {sum[c] / count[c]:F0} px², expected {expected:F0}");
    }

    [Fact]
    public void Target_StandsOutFromTheBackgroundAroundIt()
    {
        var shapes = new ShapesDataset(100, seed: 8);
        var mask = new float[64 * 64];
        double totalContrast = 0;
        for (int i = 0; i < shapes.Count; i++)
        {
            float[] image = shapes.GetImage(i);
            shapes.GetMask(i, mask);
            Box box = shapes.GetBox(i)!.Value;
            double inside = 0, outside = 0;
            int insideCount = 0, outsideCount = 0;
            for (int p = 0; p < 64 * 64; p++)
            {
                bool ring = !box.Contains(p % 64, p / 64) && new Box(box.X0 - 3, box.Y0 - 3, box.X1 + 3, box.Y1 + 3).Contains(p % 64, p / 64);
                if (mask[p] >= 0.99f) { insideCount++; for (int c = 0; c < 3; c++) inside += image[c * 4096 + p]; }
                else if (ring) { outsideCount++; for (int c = 0; c < 3; c++) outside += image[c * 4096 + p]; }
            }
            totalContrast += Math.Abs(inside / insideCount - outside / outsideCount);
        }
        Assert.True(totalContrast / shapes.Count > 0.1, $"mean brightness contrast {totalContrast / shapes.Count:F3}");
    }
}
