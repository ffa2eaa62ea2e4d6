namespace NanoCam.Nn.Training;

/// <summary>Classification bookkeeping on host arrays.</summary>
public static class Metrics
{
    /// <summary>Index of the largest score in a row (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
            if (row[i] > row[best]) best = i;
        return best;
    }

    public static int CountCorrect(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, int rows, int classes)
    {
        int correct = 0;
        for (int n = 0; n < rows; n++)
            if (ArgMax(logits.Slice(n * classes, classes)) == (int)labels[n]) correct++;
        return correct;
    }

    /// <summary>The k best (class, probability) pairs of one row of softmax probabilities, best first.</summary>
    public static (int Class, float Probability)[] TopK(ReadOnlySpan<float> probabilities, int k)
    {
        var order = new int[probabilities.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var p = probabilities.ToArray();
        Array.Sort(order, (a, b) => p[b].CompareTo(p[a]) != 0 ? p[b].CompareTo(p[a]) : a.CompareTo(b));
        return order.Take(Math.Min(k, order.Length)).Select(i => (i, p[i])).ToArray();
    }
}
