namespace NanoCam.Explain.Metrics;

/// <summary>
/// What the faithfulness metrics need of a model: class probabilities for many perturbed images in few forward
/// passes. <see cref="ModelClassifier"/> runs an <see cref="IExplainable"/>; tests supply models whose probabilities
/// are a known function of the pixels.
/// </summary>
public interface IBatchClassifier
{
    /// <summary>Number of classes.</summary>
    int Classes { get; }

    /// <summary>
    /// Probabilities [count, classes] of <paramref name="count"/> images of the model's input size, each written by
    /// <paramref name="fillImage"/>(index, image [C, H, W]) just before it is needed.
    /// </summary>
    float[] Probabilities(int count, Action<int, Span<float>> fillImage);
}
