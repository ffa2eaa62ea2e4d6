namespace NanoCam.Explain.Metrics;

/// <summary>
/// An explainable model as an <see cref="IBatchClassifier"/>: images [C, H, W] go through the model
/// <see cref="BatchSize"/> at a time on a no-grad tape (<see cref="CamExplainer.ScoresOf(int, int, int, int, int, Action{int, Span{float}}, Action{int, int, NanoCam.Autodiff.Tape}?)"/>),
/// and each row of class scores becomes probabilities by softmax.
/// </summary>
public sealed class ModelClassifier(CamExplainer explainer, int channels, int height, int width, int batchSize = 64) : IBatchClassifier
{
    public int Classes => explainer.Model.Classes;

    /// <summary>Images per forward pass.</summary>
    public int BatchSize { get; } = batchSize >= 1 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");

    public float[] Probabilities(int count, Action<int, Span<float>> fillImage)
    {
        var values = explainer.ScoresOf(count, BatchSize, channels, height, width, fillImage);
        int classes = Classes;
        for (int i = 0; i < count; i++)
        {
            var row = values.AsSpan(i * classes, classes);
            MapOps.Softmax(row, row);
        }
        return values;
    }
}
