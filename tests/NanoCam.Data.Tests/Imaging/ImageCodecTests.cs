using NanoCam.Imaging;

namespace NanoCam.Data.Tests.Imaging;

public class ImageCodecTests
{
    [Fact]
    public void SavePng_ThenLoad_RoundTripsEightBitValues()
    {
        using var temp = new TempDirectory();
        string path = temp.File("out/round.png");
        var random = new Random(5);
        var image = new RgbImage(7, 5);
        for (int i = 0; i < image.Pixels.Length; i++) image.Pixels[i] = random.Next(256) / 255f;
        ImageCodec.SavePng(image, path);
        Assert.False(File.Exists(path + ".tmp"));
        RgbImage loaded = ImageCodec.Load(path);
        Assert.Equal((7, 5), (loaded.Width, loaded.Height));
        for (int i = 0; i < image.Pixels.Length; i++) Assert.Equal(image.Pixels[i], loaded.Pixels[i], 6);
    }

    [Fact]
    public void Load_UnreadableFile_ThrowsInvalidData_AndAMissingOne_FileNotFound_BothNamingTheFile()
    {
        using var temp = new TempDirectory();
        string path = temp.File("garbage.png");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        var error = Assert.Throws<InvalidDataException>(() => ImageCodec.Load(path));
        Assert.StartsWith($"cannot read image {path}: ", error.Message);
        string missing = temp.File("missing.png"), inMissingFolder = Path.Combine(temp.File("no-folder"), "x.png");
        Assert.Equal($"cannot read image {missing}: no such file", Assert.Throws<FileNotFoundException>(() => ImageCodec.Load(missing)).Message);
        Assert.Equal($"cannot read image {inMissingFolder}: no such file", Assert.Throws<FileNotFoundException>(() => ImageCodec.Load(inMissingFolder)).Message);
        Assert.StartsWith($"cannot read image {temp.Path}: it is a folder", Assert.Throws<InvalidDataException>(() => ImageCodec.Load(temp.Path)).Message);
    }

    [Fact]
    public void Load_DecodesSharedJpegAndGrayPng()
    {
        RgbImage jpeg = ImageCodec.Load("/work/shared/data/images/dog_cat.jpg");
        Assert.Equal((284, 177), (jpeg.Width, jpeg.Height));
        RgbImage gray = ImageCodec.Load("/work/shared/data/images/mnist_28.png");
        Assert.Equal((28, 28), (gray.Width, gray.Height));
        Assert.All(Enumerable.Range(0, 28 * 28), p => Assert.Equal(gray.Pixels[3 * p], gray.Pixels[3 * p + 2]));
    }
}
