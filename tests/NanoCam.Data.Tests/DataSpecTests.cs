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
}
