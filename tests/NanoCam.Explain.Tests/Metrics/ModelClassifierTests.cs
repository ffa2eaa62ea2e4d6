using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>The model adapter: batched no-grad passes give the softmax of each image's own scores.</summary>
public sealed class ModelClassifierTests
{
    [Fact]
    public void BatchedProbabilities_EqualTheSoftmaxOfOneImageAtATime()
    {
        var model = TestNets.OneConv(2, 4, 3, seed: 5, randomBias: true);
        var explainer = TestNets.Explainer(model);
        var images = TestNets.Images(9, 5, 2, 6, 6);
        var host = images.ToArray();
        int size = 2 * 6 * 6;
        var classifier = new ModelClassifier(explainer, 2, 6, 6, batchSize: 2); // 5 images: batches of 2, 2, 1
        var probabilities = classifier.Probabilities(5, (i, output) => host.AsSpan(i * size, size).CopyTo(output));
        for (int n = 0; n < 5; n++)
        {
            var scores = explainer.ScoresOf(TestNets.ImageOf(images, n));
            var expected = Enumerable.Range(0, 3).Select(c => TestNets.Softmax(scores, c)).ToArray();
            TestNets.AssertClose(expected, probabilities.AsSpan(n * 3, 3), 1e-5f);
        }
    }
}
