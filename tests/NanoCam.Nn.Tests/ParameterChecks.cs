using NanoCam.Nn.Modules;
using NanoCam.Nn.Training;

namespace NanoCam.Nn.Tests;

/// <summary>
/// Measurements the gradient and allocation tests of this project share; each test states its own tolerance or bound:
/// the central finite difference of a loss in one parameter element, and the bytes of steady training steps.
/// </summary>
internal static class ParameterChecks
{
    /// <summary>(f(θ_j + h) − f(θ_j − h)) / 2h for element <paramref name="j"/> of <paramref name="value"/>, which is left as it was.</summary>
    internal static double CentralDifference(Tensor value, int j, float h, Func<double> f)
    {
        float original = value.Span[j];
        value.Span[j] = original + h;
        double plus = f();
        value.Span[j] = original - h;
        double minus = f();
        value.Span[j] = original;
        return (plus - minus) / (2 * h);
    }

    /// <summary>
    /// Every <paramref name="parameters"/> element at a stride of size / <paramref name="perParameter"/> (at least 1), with
    /// its tensor and its backward gradient, read when the walk reaches that parameter (as a loop over the parameters would).
    /// </summary>
    internal static IEnumerable<(string Name, Tensor Value, int Index, float Analytic)> SampledElements(
        IEnumerable<(string Name, Parameter Parameter)> parameters, int perParameter)
    {
        foreach (var (name, parameter) in parameters)
        {
            var value = parameter.Value;
            var analytic = value.Grad!.ToArray();
            for (int j = 0; j < value.Size; j += Math.Max(1, value.Size / perParameter)) yield return (name, value, j, analytic[j]);
        }
    }

    /// <summary>What five training steps allocate on the calling thread after three warm-up steps.</summary>
    internal static long SteadyStepBytes(TrainingStep step, Tensor images, Tensor labels)
    {
        for (int i = 0; i < 3; i++) step.Run(images, labels);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) step.Run(images, labels);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
