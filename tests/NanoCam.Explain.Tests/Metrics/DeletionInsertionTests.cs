using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>
/// Deletion and insertion against values worked by hand on a model whose probability is the mean pixel value:
/// deleting (zeroing) pixels in saliency order lowers it by each pixel's value / P, so every point and the
/// trapezoidal AUC follow in closed form.
/// </summary>
public sealed class DeletionInsertionTests
{
    // A 1×2×2 image; saliency orders the pixels 0 (0.4), 2 (0.3), 3 (0.2), 1 (0.1).
    private static readonly float[] Image = [0.4f, 0.1f, 0.3f, 0.2f];
    private static readonly float[] Saliency = [4, 1, 3, 2];

    [Fact]
    public void Deletion_OnePixelPerStep_FollowsTheMeanOfTheRemainingPixels()
    {
        var model = new MeanPixelClassifier(4);
        var (deletion, insertion) = DeletionInsertion.Curves(model, Image, 1, 2, 2, Saliency, 0, steps: 4,
            DeletionInsertion.Substrate.Zero, DeletionInsertion.Substrate.Zero);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], deletion.Fractions);
        // mean after deleting 0, 1, 2, 3, 4 pixels: 1.0/4, 0.6/4, 0.3/4, 0.1/4, 0
        TestNets.AssertClose([0.25f, 0.15f, 0.075f, 0.025f, 0f], deletion.Probabilities, 1e-6f);
        // AUC = ¼ (0.25/2 + 0.15 + 0.075 + 0.025 + 0/2) = 0.09375
        Assert.Equal(0.09375, deletion.Auc, 1e-6);
        // insertion onto zeros: 0, 0.4/4, 0.7/4, 0.9/4, 1.0/4 → AUC = ¼ (0 + 0.1 + 0.175 + 0.225 + 0.125) = 0.15625
        TestNets.AssertClose([0f, 0.1f, 0.175f, 0.225f, 0.25f], insertion.Probabilities, 1e-6f);
        Assert.Equal(0.15625, insertion.Auc, 1e-6);
        // Both curves in one batched call of 2·5 images.
        Assert.Equal(1, model.Calls);
        Assert.Equal(10, model.Images);
    }

    [Fact]
    public void Deletion_OrderMatters_TheReversedMapDeletesSlower()
    {
        var model = new MeanPixelClassifier(4);
        float[] reversed = [1, 4, 2, 3];
        var (faithful, _) = DeletionInsertion.Curves(model, Image, 1, 2, 2, Saliency, 0, 4);
        var (unfaithful, _) = DeletionInsertion.Curves(model, Image, 1, 2, 2, reversed, 0, 4);
        // reversed order 1 (0.1), 3 (0.2), 2 (0.3), 0 (0.4): 0.25, 0.225, 0.175, 0.1, 0 → AUC = ¼ (0.125 + 0.5) = 0.15625
        Assert.Equal(0.15625, unfaithful.Auc, 1e-6);
        Assert.True(faithful.Auc < unfaithful.Auc);
    }

    [Fact]
    public void UnevenSteps_TheLastStepIsNarrower()
    {
        // 1×1×3 image, 2 steps → ⌈3/2⌉ = 2 pixels per step: points after 0, 2, 3 pixels, fractions 0, 2/3, 1.
        float[] image = [0.9f, 0.6f, 0.3f];
        var model = new MeanPixelClassifier(3);
        var (deletion, _) = DeletionInsertion.Curves(model, image, 1, 1, 3, [3f, 2f, 1f], 0, steps: 2,
            DeletionInsertion.Substrate.Zero, DeletionInsertion.Substrate.Zero);
        Assert.Equal([0, 2.0 / 3, 1], deletion.Fractions);
        TestNets.AssertClose([0.6f, 0.1f, 0f], deletion.Probabilities, 1e-6f);
        // (2/3)(0.6 + 0.1)/2 + (1/3)(0.1 + 0)/2 = 0.23333 + 0.01667 = 0.25
        Assert.Equal(0.25, deletion.Auc, 1e-6);
    }

    [Fact]
    public void EveryChannelOfAPixel_IsRemovedTogether()
    {
        // 2×1×2: channel planes [1, 0.5] and [0.5, 1]; deleting pixel 0 removes 1 and 0.5 → mean 1.5/4.
        float[] image = [1f, 0.5f, 0.5f, 1f];
        var (deletion, _) = DeletionInsertion.Curves(new MeanPixelClassifier(4), image, 2, 1, 2, [2f, 1f], 0, steps: 2);
        TestNets.AssertClose([0.75f, 0.375f, 0f], deletion.Probabilities, 1e-6f);
    }

    [Fact]
    public void TiedSaliency_KeepsRasterOrder()
    {
        Assert.Equal([2, 0, 1, 3], DeletionInsertion.PixelOrder([1f, 1f, 5f, 0f]));
    }

    [Fact]
    public void GaussianBlur_KeepsConstantsAndSpreadsAnImpulseSymmetrically()
    {
        var constant = Enumerable.Repeat(0.7f, 2 * 9 * 9).ToArray();
        TestNets.AssertClose(constant, DeletionInsertion.GaussianBlur(constant, 2, 9, 9, 1.5f), 1e-6f);
        var impulse = new float[15 * 15];
        impulse[7 * 15 + 7] = 1f;
        var blurred = DeletionInsertion.GaussianBlur(impulse, 1, 15, 15, 1f);
        Assert.Equal(1.0, blurred.Sum(), 1e-5); // radius 3 stays inside the image: the kernel's mass is kept
        Assert.Equal(blurred[7 * 15 + 5], blurred[7 * 15 + 9], 6);
        Assert.Equal(blurred[5 * 15 + 7], blurred[7 * 15 + 5], 6);
        // e^{-1/2} between the centre and one pixel away, in each direction.
        Assert.Equal(MathF.Exp(-0.5f), blurred[7 * 15 + 8] / blurred[7 * 15 + 7], 5);
    }

    [Fact]
    public void Insertion_StartsFromTheBlurredImage()
    {
        var image = new float[8 * 8];
        image[0] = 1f;
        var model = new MeanPixelClassifier(64);
        var saliency = new float[64];
        saliency[0] = 1f;
        var (_, insertion) = DeletionInsertion.Curves(model, image, 1, 8, 8, saliency, 0, steps: 64);
        var blurred = DeletionInsertion.GaussianBlur(image, 1, 8, 8, DeletionInsertion.BlurSigma(8));
        Assert.Equal(blurred.Average(), insertion.Probabilities[0], 5);
        Assert.Equal(image.Average(), insertion.Probabilities[^1], 6);
    }
}
