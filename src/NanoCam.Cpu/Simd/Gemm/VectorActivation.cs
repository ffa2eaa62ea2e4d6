using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// An epilogue's activation on sixteen values at once, for the kinds whose scalar definition (<see cref="ConvEpilogue.Apply"/>)
/// is a few additions, products and comparisons: the same operations in the same order, so each lane equals the scalar
/// result. Sigmoid and SiLU (an exponential) stay scalar: <see cref="Vectorizes"/> is false for them.
/// </summary>
public static class VectorActivation
{
    /// <summary>Whether <see cref="Apply"/> handles <paramref name="kind"/>.</summary>
    public static bool Vectorizes(EpilogueActivation kind) => kind is not (EpilogueActivation.Sigmoid or EpilogueActivation.Silu);

    /// <summary>act(v) lane by lane, for a kind that <see cref="Vectorizes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(in ConvEpilogue act, Vector512<float> v)
    {
        switch (act.Kind)
        {
            case EpilogueActivation.Identity: return v;
            case EpilogueActivation.Relu: return v & Vector512.GreaterThan(v, Vector512<float>.Zero);   // x > 0 ? x : 0
            case EpilogueActivation.LeakyRelu: return Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, Vector512.Create(act.A) * v);
            case EpilogueActivation.Clip: return Vector512.Min(Vector512.Max(v, Vector512.Create(act.A)), Vector512.Create(act.B));
            case EpilogueActivation.HardSigmoid: return Vector512.Max(Vector512<float>.Zero, Vector512.Min(Vector512<float>.One, Vector512.Create(act.A) * v + Vector512.Create(act.B)));
            case EpilogueActivation.HardSwish:
                return v * Vector512.Max(Vector512<float>.Zero, Vector512.Min(Vector512.Create(6f), v + Vector512.Create(3f))) / Vector512.Create(6f);
            case EpilogueActivation.HardSigmoidGate:
                return v * Vector512.Max(Vector512<float>.Zero, Vector512.Min(Vector512<float>.One, Vector512.Create(act.A) * v + Vector512.Create(act.B)));
            default: throw new ArgumentOutOfRangeException(nameof(act), act.Kind, "no vector form of this activation");
        }
    }
}
