namespace NanoCam.Data.Tests;

public class DataSpecTests
{
    [Fact]
    public void Shapes_DefaultsDifferPerSplit()
    {
        Dataset train = DataSpec.Parse("shapes", "train"), test = DataSpec.Parse("shapes", "test");
        Assert.Equal(DataSpec.ShapesTrainCount, train.Count);
        Assert.Equal(DataSpec.ShapesTestCount, test.Count);
        Assert.NotEqual(train.GetImage(0), test.GetImage(0));
        Assert.Equal(300, DataSpec.Parse("shapes:300", "train").Count);
    }

    [Fact]
    public void Range_TakesExamplesStartToEnd()
    {
        Dataset part = DataSpec.Parse("shapes#10-20", "test");
        var full = new ShapesDataset(DataSpec.ShapesTestCount, DataSpec.ShapesTestSeed);
        Assert.Equal(10, part.Count);
        Assert.Equal(full.GetImage(15), part.GetImage(5));
        Assert.Equal(full.GetLabel(19), part.GetLabel(9));
        Assert.Equal(full.GetBox(10), part.GetBox(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => part.GetLabel(10));
    }

    [Fact]
    public void Range_OnIdx_UsesTheRealFiles()
    {
        Dataset part = DataSpec.Parse("idx:/work/shared/data/mnist#0-100", "train");
        Assert.Equal(100, part.Count);
        Assert.Equal(7, part.GetLabel(0));
        Assert.Equal(1, part.Channels);
    }

    [Fact]
    public void OutOfBoundsRange_SaysHowManyExamplesExist()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => DataSpec.Parse("shapes#900-1100", "test"));
        Assert.Contains("#900-1100", error.Message);
        Assert.Contains("1000 examples", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => DataSpec.Parse("shapes#5-5", "test"));
    }

    [Theory]
    [InlineData("imagenet")]
    [InlineData("idx:")]
    [InlineData("shapes:-4")]
    [InlineData("shapes#1")]
    [InlineData("shapes#a-b")]
    public void BadSpec_ListsTheValidForms(string spec)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => DataSpec.Parse(spec, "train"));
        Assert.Contains("cifar10:DIR", error.Message);
    }

    [Fact]
    public void BadSplit_IsRejected()
    {
        Assert.Contains("train, test", Assert.Throws<ArgumentException>(() => DataSpec.Parse("shapes", "dev")).Message);
    }

    [Fact]
    public void Resize_ScalesImagesAndBoxes_AfterTheRange()
    {
        Dataset part = DataSpec.Parse("idx:/work/shared/data/mnist#1-11@32", "test");
        Assert.Equal((10, 1, 32, 32), (part.Count, part.Channels, part.Height, part.Width));
        Assert.Equal(2, part.GetLabel(0));
        // MNIST image 1's ink box (8, 3)–(25, 22) covers [8, 26) × [3, 23) at 28; × 32/28: [9.14, 29.71) × [3.43, 26.29).
        Assert.Equal(new Box(9, 3, 29, 26), part.GetBox(0));
        Dataset tall = DataSpec.Parse("shapes:5@32x16", "test");
        Assert.Equal((32, 16), (tall.Height, tall.Width));
        Assert.Same(typeof(ShapesDataset), DataSpec.Parse("shapes:5@64", "test").GetType());
        var error = Assert.Throws<ArgumentException>(() => DataSpec.Parse("shapes@0", "test"));
        Assert.Contains("bad size '@0'", error.Message);
        Assert.Throws<ArgumentException>(() => DataSpec.Parse("shapes@32x", "test"));
        Assert.Throws<ArgumentException>(() => DataSpec.Parse("shapes@3x4x5", "test"));
    }

    [Fact]
    public void ResizedDataset_InterpolatesEachChannel_WithHalfPixelCentres()
    {
        // 2×2 → 4×4: output column x samples u = (x + ½)/2 − ½ = −¼, ¼, ¾, 1¼, clamped to [0, 1]: weights of the right
        // pixel 0, ¼, ¾, 1; the same along y.
        var inner = new FixedDataset([1f, 3f, 5f, 9f, /* channel 2 */ 2f, 2f, 2f, 2f], channels: 2, height: 2, width: 2);
        var resized = new ResizedDataset(inner, 4, 4);
        float[] image = resized.GetImage(0);
        float[] f = [0f, 0.25f, 0.75f, 1f];
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
            {
                float top = 1 + (3 - 1) * f[x], bottom = 5 + (9 - 5) * f[x];
                Assert.Equal(top + (bottom - top) * f[y], image[y * 4 + x], 5);
                Assert.Equal(2f, image[16 + y * 4 + x], 5);
            }
        Assert.Equal(new Box(0, 2, 1, 3), resized.GetBox(0));
    }

    private sealed class FixedDataset(float[] image, int channels, int height, int width) : Dataset
    {
        public override int Count => 1;
        public override IReadOnlyList<string> ClassNames => ["only"];
        public override int Channels => channels;
        public override int Height => height;
        public override int Width => width;
        public override void GetImage(int index, Span<float> chw) => image.CopyTo(chw);
        public override int GetLabel(int index) => 0;
        public override Box? GetBox(int index) => new Box(0, 1, 0, 1);
    }
}
