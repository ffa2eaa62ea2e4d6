namespace NanoCam.Data.Tests;

public class DataLoaderTests
{
    private static readonly Dataset Shapes = new ShapesDataset(70, seed: 4);

    [Fact]
    public void SameSeed_GivesSameBatches_RegardlessOfWorkers()
    {
        var options = new DataLoaderOptions { Seed = 9, CropPadding = 4, HorizontalFlip = true, Mean = [0.5f], Std = [0.25f] };
        var serial = new DataLoader(Shapes, 16, options with { Workers = 1 });
        var parallel = new DataLoader(Shapes, 16, options with { Workers = 4 });
        for (int epoch = 0; epoch < 2; epoch++)
            foreach (var (a, b) in serial.Epoch(epoch).Zip(parallel.Epoch(epoch)))
            {
                Assert.Equal(a.Indices, b.Indices);
                Assert.Equal(a.Labels.ToArray(), b.Labels.ToArray());
                Assert.Equal(a.Images.ToArray(), b.Images.ToArray());
            }
    }

    [Fact]
    public void Shuffle_VisitsEveryExampleOncePerEpoch_InADifferentOrderEachEpoch()
    {
        var loader = new DataLoader(Shapes, 16, new DataLoaderOptions { Seed = 1 });
        int[] first = loader.Epoch(0).SelectMany(b => b.Indices.ToArray()).ToArray();
        int[] second = loader.Epoch(1).SelectMany(b => b.Indices.ToArray()).ToArray();
        Assert.Equal(Enumerable.Range(0, 70), first.Order());
        Assert.Equal(Enumerable.Range(0, 70), second.Order());
        Assert.NotEqual(first, second);
        Assert.Equal(first, new DataLoader(Shapes, 16, new DataLoaderOptions { Seed = 1 }).Epoch(0).SelectMany(b => b.Indices.ToArray()));
    }

    [Fact]
    public void LastPartialBatch_IsSmaller_AndTensorsAreReused()
    {
        var loader = new DataLoader(Shapes, 16, DataLoaderOptions.Evaluation);
        Assert.Equal(5, loader.BatchCount);
        Batch first = loader.GetBatch(0, 0);
        Tensor images = first.Images;
        Assert.Equal(new Shape(16, 3, 64, 64), images.Shape);
        Assert.Same(images, loader.GetBatch(0, 1).Images);
        Batch last = loader.GetBatch(0, 4);
        Assert.Equal(new Shape(6, 3, 64, 64), last.Images.Shape);
        Assert.Equal(new Shape(6), last.Labels.Shape);
        Assert.Equal([64, 65, 66, 67, 68, 69], last.Indices);
        Assert.Same(last, loader.GetBatch(1, 4));
        Assert.Equal(4, new DataLoader(Shapes, 16, new DataLoaderOptions { DropLast = true }).BatchCount);
    }

    [Fact]
    public void Normalization_AppliesPerChannelMeanAndStd()
    {
        float[] mean = [0.1f, 0.2f, 0.3f], std = [0.5f, 0.25f, 2f];
        var loader = new DataLoader(Shapes, 8, new DataLoaderOptions { Shuffle = false, Mean = mean, Std = std });
        Batch batch = loader.GetBatch(0, 0);
        float[] raw = Shapes.GetImage(3);
        float[] all = batch.Images.ToArray();
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 64 * 64; p += 97)
                Assert.Equal((raw[c * 4096 + p] - mean[c]) / std[c], all[3 * 3 * 4096 + c * 4096 + p], 4);
        Assert.Equal(Shapes.GetLabel(3), batch.Labels.ToArray()[3]);
    }

    [Fact]
    public void Flip_MirrorsOrKeepsEachImage()
    {
        var loader = new DataLoader(Shapes, 32, new DataLoaderOptions { Shuffle = false, HorizontalFlip = true, Seed = 2 });
        float[] all = loader.GetBatch(0, 0).Images.ToArray();
        int flipped = 0;
        for (int row = 0; row < 32; row++)
        {
            float[] raw = Shapes.GetImage(row);
            var mirrored = new float[raw.Length];
            DataLoader.Augment(raw, mirrored, 3, 64, 64, 0, 0, flip: true);
            float[] got = all[(row * raw.Length)..((row + 1) * raw.Length)];
            if (got.SequenceEqual(mirrored)) flipped++;
            else Assert.Equal(raw, got);
        }
        Assert.InRange(flipped, 6, 26);
    }

    [Fact]
    public void Augment_ShiftFillsWithZeros()
    {
        float[] source = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var result = new float[9];
        DataLoader.Augment(source, result, 1, 3, 3, dx: 1, dy: -1, flip: false);
        Assert.Equal([0, 0, 0, 2, 3, 0, 5, 6, 0], result);
    }

    [Fact]
    public void MeanStd_OfTheMnistSubset_IsPlausible()
    {
        var (mean, std) = DatasetStatistics.MeanStd(DataSpec.Parse("idx:/work/shared/data/mnist", "test"), 500);
        Assert.InRange(mean[0], 0.1f, 0.16f);
        Assert.InRange(std[0], 0.27f, 0.35f);
    }
}
