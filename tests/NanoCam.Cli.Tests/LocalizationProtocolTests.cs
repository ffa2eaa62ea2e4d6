using NanoCam.Cli.Shared;
using NanoCam.Data;
using NanoCam.Explain;
using NanoCam.Explain.Metrics;

namespace NanoCam.Cli.Tests;

/// <summary>
/// The conventions under <c>nanocam eval --localization</c>, worked end to end: data boxes (inclusive corners) against
/// map boxes (half-open), and the half-pixel alignment of the bilinear upsampling from the feature map to the image.
/// </summary>
public sealed class LocalizationProtocolTests
{
    [Fact]
    public void AMapEqualToTheTrueMask_GivesExactlyTheTrueBox()
    {
        var shapes = new ShapesDataset(60, seed: 2);
        var mask = new float[64 * 64];
        int checkedImages = 0;
        for (int i = 0; i < shapes.Count; i++)
        {
            // Circles and squares only: a sharp tip (triangle, star) may touch the rest of its shape only diagonally,
            // and the protocol's components are 4-connected.
            if (shapes.GetLabel(i) > 1) continue;
            checkedImages++;
            shapes.GetMask(i, mask);
            // Pixels covered at least half are the target (the data set's box rule); the anti-aliased rim is dropped.
            for (int p = 0; p < mask.Length; p++) mask[p] = mask[p] >= 0.5f ? 1f : 0f;
            var truth = Evaluation.ToExclusive(shapes.GetBox(i)!.Value);
            var box = Localization.BoxFromMap(mask, 64, 64);
            Assert.Equal(truth, box);
            Assert.Equal(1.0, box.IoU(truth), 12);
        }
        Assert.True(checkedImages >= 10, $"only {checkedImages} circles and squares");
    }

    [Fact]
    public void UpsampledBlockOfCells_GivesABoxCentredOnTheCellsPixels()
    {
        // 16×16 cells of 4×4 pixels; cells 4..7 (pixels 16..31) are 1. With half-pixel centres, cell j's centre is pixel
        // 4j + 1.5, so between cell 3 (13.5) and cell 4 (17.5) the map ramps as (x − 13.5)/4: ≥ 0.2 from x = 15 on.
        // Symmetrically it stays ≥ 0.2 up to x = 32. Box [15, 33): centred on 24, the block's own centre.
        var cells = new float[16 * 16];
        for (int y = 4; y < 8; y++) for (int x = 4; x < 8; x++) cells[y * 16 + x] = 1f;
        var map = new float[64 * 64];
        MapOps.Upsample(cells, 16, 16, map, 64, 64);
        Assert.Equal(new NanoCam.Explain.Metrics.Box(15, 15, 33, 33), Localization.BoxFromMap(map, 64, 64));
    }
}
