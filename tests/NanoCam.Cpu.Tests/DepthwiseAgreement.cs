using NanoCam.Cpu.Naive;
using NanoCam.Cpu.Simd;
using static NanoCam.Cpu.Tests.SimdAgreementTests;

namespace NanoCam.Cpu.Tests;

/// <summary>
/// The checks both depthwise kernel tests make (DepthwiseConvTests, DepthwiseSmallMapsTests): each of a test class's
/// SIMD kernel sets against the naive reference, forward (every output written) and the input gradient (added and
/// written), each within 1e-5 of the largest value. The kernel sets stay the classes' own: xUnit runs classes in
/// parallel, and a kernel set's scratch buffers serve one call at a time.
/// </summary>
internal static class DepthwiseAgreement
{
    internal static readonly NaiveKernels Reference = NaiveKernels.Instance;

    /// <summary>The forward pass of every SIMD kernel set against the naive one (outputs filled with NaN first); returns the naive output.</summary>
    internal static Tensor ForwardMatchesNaive(SimdKernels[] kernelSets, Conv2dGeometry g, Tensor input, Tensor weight, Tensor? bias, string what)
    {
        var expected = Tensor.Zeros(g.OutputShape);
        Reference.Conv2dForward(expected, input, weight, bias, g);
        foreach (var simd in kernelSets)
        {
            var actual = Tensor.Zeros(g.OutputShape);
            actual.Span.Fill(float.NaN);   // every output is written
            simd.Conv2dForward(actual, input, weight, bias, g);
            AssertClose(expected, actual, 1e-5f, $"forward, {what}, threads={simd.Threads}");
        }
        return expected;
    }

    /// <summary>dX added to <paramref name="start"/> and written over NaN, by every SIMD kernel set, against the naive kernel.</summary>
    internal static void InputGradientMatchesNaive(SimdKernels[] kernelSets, Conv2dGeometry g, Tensor dOutput, Tensor start, Tensor weight, string what)
    {
        var added = Clone(start);
        Reference.Conv2dBackwardInput(added, dOutput, weight, g);
        var written = Tensor.Zeros(g.InputShape);
        Reference.Conv2dBackwardInput(written, dOutput, weight, g);
        foreach (var simd in kernelSets)
        {
            var actual = Clone(start);
            simd.Conv2dBackwardInput(actual, dOutput, weight, g);
            AssertClose(added, actual, 1e-5f, $"backward input, added, {what}, threads={simd.Threads}");
            actual.Span.Fill(float.NaN);
            simd.Conv2dBackwardInput(actual, dOutput, weight, g, accumulate: false);
            AssertClose(written, actual, 1e-5f, $"backward input, written, {what}, threads={simd.Threads}");
        }
    }
}
