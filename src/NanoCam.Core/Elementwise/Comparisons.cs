namespace NanoCam.Elementwise;

// Comparisons and logic: the result is 1 or 0 as a float and the derivatives are 0 (a step function). For the logical
// ones an operand is true when it is nonzero (NaN included).

/// <summary>y = [a = b].</summary>
public readonly struct Equal : IBinaryFunction
{
    public string Name => "Equal";
    public float Value(float a, float b) => a == b ? 1f : 0f;
    public float DerivativeA(float a, float b, float y) => 0f;
    public float DerivativeB(float a, float b, float y) => 0f;
}

/// <summary>y = [a &lt; b].</summary>
public readonly struct Less : IBinaryFunction
{
    public string Name => "Less";
    public float Value(float a, float b) => a < b ? 1f : 0f;
    public float DerivativeA(float a, float b, float y) => 0f;
    public float DerivativeB(float a, float b, float y) => 0f;
}

/// <summary>y = [a &gt; b].</summary>
public readonly struct Greater : IBinaryFunction
{
    public string Name => "Greater";
    public float Value(float a, float b) => a > b ? 1f : 0f;
    public float DerivativeA(float a, float b, float y) => 0f;
    public float DerivativeB(float a, float b, float y) => 0f;
}

/// <summary>y = [a ≤ b].</summary>
public readonly struct LessOrEqual : IBinaryFunction
{
    public string Name => "LessOrEqual";
    public float Value(float a, float b) => a <= b ? 1f : 0f;
    public float DerivativeA(float a, float b, float y) => 0f;
    public float DerivativeB(float a, float b, float y) => 0f;
}

/// <summary>y = [a ≥ b].</summary>
public readonly struct GreaterOrEqual : IBinaryFunction
{
    public string Name => "GreaterOrEqual";
    public float Value(float a, float b) => a >= b ? 1f : 0f;
    public float DerivativeA(float a, float b, float y) => 0f;
    public float DerivativeB(float a, float b, float y) => 0f;
}

/// <summary>y = [a ≠ 0 and b ≠ 0].</summary>
public readonly struct And : IBinaryFunction
{
    public string Name => "And";
    public float Value(float a, float b) => a != 0f && b != 0f ? 1f : 0f;
    public float DerivativeA(float a, float b, float y) => 0f;
    public float DerivativeB(float a, float b, float y) => 0f;
}

/// <summary>y = [a ≠ 0 or b ≠ 0].</summary>
public readonly struct Or : IBinaryFunction
{
    public string Name => "Or";
    public float Value(float a, float b) => a != 0f || b != 0f ? 1f : 0f;
    public float DerivativeA(float a, float b, float y) => 0f;
    public float DerivativeB(float a, float b, float y) => 0f;
}

/// <summary>y = [(a ≠ 0) ≠ (b ≠ 0)].</summary>
public readonly struct Xor : IBinaryFunction
{
    public string Name => "Xor";
    public float Value(float a, float b) => (a != 0f) != (b != 0f) ? 1f : 0f;
    public float DerivativeA(float a, float b, float y) => 0f;
    public float DerivativeB(float a, float b, float y) => 0f;
}
