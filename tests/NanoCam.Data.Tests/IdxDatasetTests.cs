namespace NanoCam.Data.Tests;

public class IdxDatasetTests
{
    private const string MnistDirectory = "/work/shared/data/mnist";

    [Fact]
    public void FromDirectory_ReadsTheRealMnistTestSet()
    {
        IdxDataset mnist = IdxDataset.FromDirectory(MnistDirectory, "test");
        Assert.Equal(10000, mnist.Count);
        Assert.Equal((1, 28, 28), (mnist.Channels, mnist.Height, mnist.Width));
        Assert.Equal(10, mnist.ClassNames.Count);
        Assert.Equal([7, 2, 1, 0, 4, 1, 4, 9, 5, 9], Enumerable.Range(0, 10).Select(mnist.GetLabel));
        int[] counts = new int[10];
        for (int i = 0; i < mnist.Count; i++) counts[mnist.GetLabel(i)]++;
        Assert.Equal([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], counts);

        float[] image = mnist.GetImage(0);
        Assert.All(image, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(0f, image[0]);
        Assert.Equal(1f, image.Max());
    }

    [Fact]
    public void FromDirectory_UsesTheOnlySplitPresent_WhenTrainIsAsked()
    {
        IdxDataset mnist = IdxDataset.FromDirectory(MnistDirectory, "train");
        Assert.Equal(10000, mnist.Count);
        Assert.Equal(7, mnist.GetLabel(0));
    }

    [Fact]
    public void TruncatedImagesFile_ErrorNamesTheFileAndTheHeader()
    {
        using var temp = new TempDirectory();
        byte[] images = IdxFile.ReadMaybeGzipped(Path.Combine(MnistDirectory, "t10k-images-idx3-ubyte.gz"));
        string imagesPath = temp.File("t10k-images-idx3-ubyte");
        File.WriteAllBytes(imagesPath, images[..(16 + 5000)]);
        File.Copy(Path.Combine(MnistDirectory, "t10k-labels-idx1-ubyte.gz"), temp.File("t10k-labels-idx1-ubyte.gz"));

        var error = Assert.Throws<InvalidDataException>(() => IdxDataset.FromDirectory(temp.Path, "test"));
        Assert.Contains(imagesPath, error.Message);
        Assert.Contains("header says 10000 images of 28×28 but file holds 5016 bytes", error.Message);
    }

    [Fact]
    public void LabelCountMismatch_IsRejected()
    {
        using var temp = new TempDirectory();
        byte[] images = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 10, 20];
        byte[] labels = [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3];
        File.WriteAllBytes(temp.File("train-images-idx3-ubyte"), images);
        File.WriteAllBytes(temp.File("train-labels-idx1-ubyte"), labels);
        var error = Assert.Throws<InvalidDataException>(() => IdxDataset.FromDirectory(temp.Path, "train"));
        Assert.Contains("3 labels", error.Message);
    }

    [Fact]
    public void WrongMagic_IsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("x");
        File.WriteAllBytes(path, [0, 0, 8, 1, 0, 0, 0, 1, 5]);
        var error = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(path));
        Assert.Contains("magic 0x00000801", error.Message);
    }
}
