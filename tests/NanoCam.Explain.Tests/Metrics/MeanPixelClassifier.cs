using NanoCam.Explain.Metrics;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>
/// A two-class "model" whose probabilities are a known function of the pixels: p₀ = mean pixel value (inputs in
/// [0, 1]), p₁ = 1 − p₀. It counts its calls, so tests can check that the metrics batch their passes.
/// </summary>
internal sealed class MeanPixelClassifier(int imageSize) : IBatchClassifier
{
    public int Classes => 2;

    public int Calls { get; private set; }

    public int Images { get; private set; }

    public float[] Probabilities(int count, Action<int, Span<float>> fillImage)
    {
        Calls++;
        Images += count;
        var probabilities = new float[count * 2];
        var image = new float[imageSize];
        for (int i = 0; i < count; i++)
        {
            fillImage(i, image);
            double mean = image.Average();
            probabilities[2 * i] = (float)mean;
            probabilities[2 * i + 1] = (float)(1 - mean);
        }
        return probabilities;
    }
}
