using System.Runtime.Intrinsics;

namespace NanoCam.Elementwise;

// The vector bodies of the element-wise functions (VectorMath, the activation structs) are written once, generic over
// the lane width: Lanes512 where AVX-512 runs in hardware, Lanes256 elsewhere. Each member is the Vector512 or Vector256
// operation of the same name (a SelectWhere… is its comparison and ConditionalSelect in one expression); the JIT compiles
// one copy per width with every call inlined, as if written by hand.

/// <summary>A vector of float lanes of one width, with the operations the vector bodies are written in (static abstract, so generic code is specialised per width).</summary>
/// <remarks>
/// A comparison never leaves this type as a mask: each select compares and picks in one expression inside the width's
/// struct, so the JIT keeps the compare-and-blend it emits for hand-written Vector512 code (a mask carried through the
/// wrapper costs a mask-to-vector move and a bitwise select per vector). Likewise a constant passed as a Create'd value
/// reaches Min/Max as a local, which costs the NaN and −0 fix-ups of a general min; Min(x, bound) keeps it a constant.
/// </remarks>
public unsafe interface IFloatLanes<TLanes> where TLanes : struct, IFloatLanes<TLanes>
{
    /// <summary>The number of lanes.</summary>
    static abstract int Count { get; }

    /// <summary>Whether this width runs in hardware on this CPU.</summary>
    static abstract bool IsHardwareAccelerated { get; }

    static abstract TLanes Zero { get; }
    static abstract TLanes Create(float value);
    static abstract TLanes Load(float* source);
    void Store(float* destination);

    /// <summary>Lane <paramref name="index"/>.</summary>
    float this[int index] { get; }

    static abstract TLanes operator +(TLanes a, TLanes b);
    static abstract TLanes operator -(TLanes a, TLanes b);
    static abstract TLanes operator *(TLanes a, TLanes b);
    static abstract TLanes operator /(TLanes a, TLanes b);
    static abstract TLanes operator -(TLanes a);

    static abstract TLanes Abs(TLanes x);
    static abstract TLanes Min(TLanes a, TLanes b);
    static abstract TLanes Max(TLanes a, TLanes b);

    /// <summary>Min(x, bound) for a bound fixed where the body is written (a literal): the JIT then sees the constant and emits one min instruction, as for a Vector512 constant.</summary>
    static abstract TLanes Min(TLanes x, float bound);

    /// <summary>Max(x, bound) for a literal bound, as <see cref="Min(TLanes, float)"/>.</summary>
    static abstract TLanes Max(TLanes x, float bound);

    static abstract TLanes CopySign(TLanes value, TLanes sign);
    static abstract TLanes Exp(TLanes x);
    static abstract TLanes Log(TLanes x);

    /// <summary>a·b + c rounded once.</summary>
    static abstract TLanes FusedMultiplyAdd(TLanes a, TLanes b, TLanes c);

    /// <summary>Lane by lane: a = b ? ifTrue : ifFalse.</summary>
    static abstract TLanes SelectWhereEqual(TLanes a, TLanes b, TLanes ifTrue, TLanes ifFalse);

    /// <summary>Lane by lane: a &lt; b ? ifTrue : ifFalse (NaN: ifFalse).</summary>
    static abstract TLanes SelectWhereLessThan(TLanes a, TLanes b, TLanes ifTrue, TLanes ifFalse);

    /// <summary>Lane by lane: a ≤ b ? ifTrue : ifFalse (NaN: ifFalse).</summary>
    static abstract TLanes SelectWhereLessThanOrEqual(TLanes a, TLanes b, TLanes ifTrue, TLanes ifFalse);

    /// <summary>Lane by lane: a &gt; b ? ifTrue : ifFalse (NaN: ifFalse).</summary>
    static abstract TLanes SelectWhereGreaterThan(TLanes a, TLanes b, TLanes ifTrue, TLanes ifFalse);

    /// <summary>Lane by lane: a ≥ b ? ifTrue : ifFalse (NaN: ifFalse).</summary>
    static abstract TLanes SelectWhereGreaterThanOrEqual(TLanes a, TLanes b, TLanes ifTrue, TLanes ifFalse);

    /// <summary>Lane by lane: x is NaN ? ifNaN : otherwise.</summary>
    static abstract TLanes SelectWhereNaN(TLanes x, TLanes ifNaN, TLanes otherwise);

    static abstract bool LessThanAll(TLanes a, TLanes b);
    static abstract bool GreaterThanOrEqualAny(TLanes a, TLanes b);
}

/// <summary>Sixteen float lanes (<see cref="Vector512{T}"/>).</summary>
public readonly unsafe struct Lanes512(Vector512<float> vector) : IFloatLanes<Lanes512>
{
    public Vector512<float> Vector { get; } = vector;

    public static implicit operator Lanes512(Vector512<float> vector) => new(vector);
    public static implicit operator Vector512<float>(Lanes512 lanes) => lanes.Vector;

    public static int Count => 16;
    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;
    public static Lanes512 Zero => new(Vector512<float>.Zero);
    public static Lanes512 Create(float value) => new(Vector512.Create(value));
    public static Lanes512 Load(float* source) => new(Vector512.Load(source));
    public void Store(float* destination) => Vector.Store(destination);
    public float this[int index] => Vector[index];

    public static Lanes512 operator +(Lanes512 a, Lanes512 b) => new(a.Vector + b.Vector);
    public static Lanes512 operator -(Lanes512 a, Lanes512 b) => new(a.Vector - b.Vector);
    public static Lanes512 operator *(Lanes512 a, Lanes512 b) => new(a.Vector * b.Vector);
    public static Lanes512 operator /(Lanes512 a, Lanes512 b) => new(a.Vector / b.Vector);
    public static Lanes512 operator -(Lanes512 a) => new(-a.Vector);

    public static Lanes512 Abs(Lanes512 x) => new(Vector512.Abs(x.Vector));
    public static Lanes512 Min(Lanes512 a, Lanes512 b) => new(Vector512.Min(a.Vector, b.Vector));
    public static Lanes512 Max(Lanes512 a, Lanes512 b) => new(Vector512.Max(a.Vector, b.Vector));
    public static Lanes512 Min(Lanes512 x, float bound) => new(Vector512.Min(x.Vector, Vector512.Create(bound)));
    public static Lanes512 Max(Lanes512 x, float bound) => new(Vector512.Max(x.Vector, Vector512.Create(bound)));
    public static Lanes512 CopySign(Lanes512 value, Lanes512 sign) => new(Vector512.CopySign(value.Vector, sign.Vector));
    public static Lanes512 Exp(Lanes512 x) => new(Vector512.Exp(x.Vector));
    public static Lanes512 Log(Lanes512 x) => new(Vector512.Log(x.Vector));
    public static Lanes512 FusedMultiplyAdd(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a.Vector, b.Vector, c.Vector));

    public static Lanes512 SelectWhereEqual(Lanes512 a, Lanes512 b, Lanes512 ifTrue, Lanes512 ifFalse) => new(Vector512.ConditionalSelect(Vector512.Equals(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes512 SelectWhereLessThan(Lanes512 a, Lanes512 b, Lanes512 ifTrue, Lanes512 ifFalse) => new(Vector512.ConditionalSelect(Vector512.LessThan(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes512 SelectWhereLessThanOrEqual(Lanes512 a, Lanes512 b, Lanes512 ifTrue, Lanes512 ifFalse) => new(Vector512.ConditionalSelect(Vector512.LessThanOrEqual(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes512 SelectWhereGreaterThan(Lanes512 a, Lanes512 b, Lanes512 ifTrue, Lanes512 ifFalse) => new(Vector512.ConditionalSelect(Vector512.GreaterThan(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes512 SelectWhereGreaterThanOrEqual(Lanes512 a, Lanes512 b, Lanes512 ifTrue, Lanes512 ifFalse) => new(Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes512 SelectWhereNaN(Lanes512 x, Lanes512 ifNaN, Lanes512 otherwise) => new(Vector512.ConditionalSelect(Vector512.IsNaN(x.Vector), ifNaN.Vector, otherwise.Vector));
    public static bool LessThanAll(Lanes512 a, Lanes512 b) => Vector512.LessThanAll(a.Vector, b.Vector);
    public static bool GreaterThanOrEqualAny(Lanes512 a, Lanes512 b) => Vector512.GreaterThanOrEqualAny(a.Vector, b.Vector);
}

/// <summary>Eight float lanes (<see cref="Vector256{T}"/>), for CPUs without AVX-512.</summary>
public readonly unsafe struct Lanes256(Vector256<float> vector) : IFloatLanes<Lanes256>
{
    public Vector256<float> Vector { get; } = vector;

    public static implicit operator Lanes256(Vector256<float> vector) => new(vector);
    public static implicit operator Vector256<float>(Lanes256 lanes) => lanes.Vector;

    public static int Count => 8;
    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated;
    public static Lanes256 Zero => new(Vector256<float>.Zero);
    public static Lanes256 Create(float value) => new(Vector256.Create(value));
    public static Lanes256 Load(float* source) => new(Vector256.Load(source));
    public void Store(float* destination) => Vector.Store(destination);
    public float this[int index] => Vector[index];

    public static Lanes256 operator +(Lanes256 a, Lanes256 b) => new(a.Vector + b.Vector);
    public static Lanes256 operator -(Lanes256 a, Lanes256 b) => new(a.Vector - b.Vector);
    public static Lanes256 operator *(Lanes256 a, Lanes256 b) => new(a.Vector * b.Vector);
    public static Lanes256 operator /(Lanes256 a, Lanes256 b) => new(a.Vector / b.Vector);
    public static Lanes256 operator -(Lanes256 a) => new(-a.Vector);

    public static Lanes256 Abs(Lanes256 x) => new(Vector256.Abs(x.Vector));
    public static Lanes256 Min(Lanes256 a, Lanes256 b) => new(Vector256.Min(a.Vector, b.Vector));
    public static Lanes256 Max(Lanes256 a, Lanes256 b) => new(Vector256.Max(a.Vector, b.Vector));
    public static Lanes256 Min(Lanes256 x, float bound) => new(Vector256.Min(x.Vector, Vector256.Create(bound)));
    public static Lanes256 Max(Lanes256 x, float bound) => new(Vector256.Max(x.Vector, Vector256.Create(bound)));
    public static Lanes256 CopySign(Lanes256 value, Lanes256 sign) => new(Vector256.CopySign(value.Vector, sign.Vector));
    public static Lanes256 Exp(Lanes256 x) => new(Vector256.Exp(x.Vector));
    public static Lanes256 Log(Lanes256 x) => new(Vector256.Log(x.Vector));
    public static Lanes256 FusedMultiplyAdd(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a.Vector, b.Vector, c.Vector));

    public static Lanes256 SelectWhereEqual(Lanes256 a, Lanes256 b, Lanes256 ifTrue, Lanes256 ifFalse) => new(Vector256.ConditionalSelect(Vector256.Equals(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes256 SelectWhereLessThan(Lanes256 a, Lanes256 b, Lanes256 ifTrue, Lanes256 ifFalse) => new(Vector256.ConditionalSelect(Vector256.LessThan(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes256 SelectWhereLessThanOrEqual(Lanes256 a, Lanes256 b, Lanes256 ifTrue, Lanes256 ifFalse) => new(Vector256.ConditionalSelect(Vector256.LessThanOrEqual(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes256 SelectWhereGreaterThan(Lanes256 a, Lanes256 b, Lanes256 ifTrue, Lanes256 ifFalse) => new(Vector256.ConditionalSelect(Vector256.GreaterThan(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes256 SelectWhereGreaterThanOrEqual(Lanes256 a, Lanes256 b, Lanes256 ifTrue, Lanes256 ifFalse) => new(Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(a.Vector, b.Vector), ifTrue.Vector, ifFalse.Vector));
    public static Lanes256 SelectWhereNaN(Lanes256 x, Lanes256 ifNaN, Lanes256 otherwise) => new(Vector256.ConditionalSelect(Vector256.IsNaN(x.Vector), ifNaN.Vector, otherwise.Vector));
    public static bool LessThanAll(Lanes256 a, Lanes256 b) => Vector256.LessThanAll(a.Vector, b.Vector);
    public static bool GreaterThanOrEqualAny(Lanes256 a, Lanes256 b) => Vector256.GreaterThanOrEqualAny(a.Vector, b.Vector);
}
