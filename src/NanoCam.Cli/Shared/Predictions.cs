namespace NanoCam.Cli.Shared;

/// <summary>Softmax and top-k over one row of class scores.</summary>
public static class Predictions
{
    public static float[] Softmax(ReadOnlySpan<float> scores)
    {
        var p = new float[scores.Length];
        Explain.MapOps.Softmax(scores, p);
        return p;
    }

    public static (int Class, float Probability)[] TopK(ReadOnlySpan<float> scores, int k)
    {
        var p = Softmax(scores);
        return Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ThenBy(i => i).Take(k).Select(i => (i, p[i])).ToArray();
    }

    public static void PrintTopK(ReadOnlySpan<float> scores, IReadOnlyList<string>? names, int k = 5)
    {
        foreach (var (cls, probability) in TopK(scores, k))
            Console.WriteLine($"  {cls,5}  {probability,8:P2}  {(names is not null && cls < names.Count ? names[cls] : "")}");
    }
}
