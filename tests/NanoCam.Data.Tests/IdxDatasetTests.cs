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

    [Fact]
    public void GetBox_IsTheTightBoxOfTheInk_PixelsAboveHalfScale()
    {
        // Three 4×5 images: 128 is ink (128/255 > 0.5), 127 is not; the third has no ink at all.
        using var temp = new TempDirectory();
        byte[] header = [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5];
        byte[] first =
        [
            0, 0, 0, 0, 0,
            0, 200, 127, 0, 0,
            0, 0, 0, 128, 0,
            0, 0, 0, 0, 0,
        ];
        byte[] second =
        [
            255, 0, 0, 0, 0,
            0, 0, 0, 0, 0,
            0, 0, 0, 0, 0,
            0, 0, 0, 0, 255,
        ];
        byte[] third = [.. Enumerable.Repeat((byte)127, 20)];
        File.WriteAllBytes(temp.File("t10k-images-idx3-ubyte"), [.. header, .. first, .. second, .. third]);
        File.WriteAllBytes(temp.File("t10k-labels-idx1-ubyte"), [0, 0, 8, 1, 0, 0, 0, 3, 4, 1, 9]);
        IdxDataset data = IdxDataset.FromDirectory(temp.Path, "test");

        Assert.Equal(new Box(1, 1, 3, 2), data.GetBox(0));
        Assert.Equal(new Box(0, 0, 4, 3), data.GetBox(1));
        Assert.Null(data.GetBox(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.GetBox(3));
    }

    [Fact]
    public void GetBox_OnRealMnist_MatchesNumPy()
    {
        // numpy: ys, xs = np.nonzero(images[i] >= 128); (xs.min(), ys.min(), xs.max(), ys.max()) on t10k-images-idx3-ubyte.gz.
        IdxDataset mnist = IdxDataset.FromDirectory(MnistDirectory, "test");
        Assert.Equal(new Box(6, 7, 21, 26), mnist.GetBox(0));
        Assert.Equal(new Box(8, 3, 25, 22), mnist.GetBox(1));
        Assert.Equal(new Box(11, 4, 17, 23), mnist.GetBox(2));
    }
}
