using NanoCam.Imaging;

namespace NanoCam.Data.Tests;

public class CifarAndFolderTests
{
    [Fact]
    public void Cifar10_ReadsRecordsAsChw_AndMetaNames()
    {
        using var temp = new TempDirectory();
        var records = new byte[2 * Cifar10Dataset.RecordSize];
        records[0] = 3;
        records[1] = 255;                                  // R of pixel (0, 0)
        records[Cifar10Dataset.RecordSize] = 9;
        records[Cifar10Dataset.RecordSize + 1 + 1024] = 51; // G of pixel (0, 0), second record
        File.WriteAllBytes(temp.File("test_batch.bin"), records);
        File.WriteAllLines(temp.File("batches.meta.txt"), ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", ""]);

        Dataset cifar = DataSpec.Parse($"cifar10:{temp.Path}", "train");
        Assert.Equal(2, cifar.Count);
        Assert.Equal("j", cifar.ClassNames[cifar.GetLabel(1)]);
        Assert.Equal(1f, cifar.GetImage(0)[0]);
        Assert.Equal(0.2f, cifar.GetImage(1)[1024], 5);
    }

    [Fact]
    public void Cifar10_LengthNotAMultipleOfTheRecord_NamesTheFile()
    {
        using var temp = new TempDirectory();
        string path = temp.File("data_batch_1.bin");
        File.WriteAllBytes(path, new byte[Cifar10Dataset.RecordSize + 5]);
        var error = Assert.Throws<InvalidDataException>(() => Cifar10Dataset.FromDirectory(temp.Path, "train"));
        Assert.Contains(path, error.Message);
        Assert.Contains("3073", error.Message);
    }

    [Fact]
    public void ImageFolder_SortsClasses_AndResizesToTheFirstImage()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.File("zebra"));
        Directory.CreateDirectory(temp.File("ant"));
        var small = new RgbImage(4, 4);
        Draw.FillRectangle(small, 0, 0, 3, 3, Rgb.Red);
        ImageCodec.SavePng(small, temp.File("ant/1.png"));
        ImageCodec.SavePng(new RgbImage(8, 6), temp.File("zebra/1.png"));
        File.WriteAllText(temp.File("zebra/notes.txt"), "not an image");

        Dataset folder = DataSpec.Parse($"folder:{temp.Path}", "train");
        Assert.Equal(["ant", "zebra"], folder.ClassNames);
        Assert.Equal(2, folder.Count);
        Assert.Equal((3, 4, 4), (folder.Channels, folder.Height, folder.Width));
        Assert.Equal(0, folder.GetLabel(0));
        Assert.Equal(1, folder.GetLabel(1));
        Assert.Equal(1f, folder.GetImage(0)[0]);
    }
}
