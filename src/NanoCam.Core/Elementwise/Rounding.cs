namespace NanoCam.Elementwise;

// Rounding: piecewise constant, so the derivative is 0 — except the two precision casts, which pass the gradient
// straight through (a quantization-aware forward with an identity backward).

/// <summary>y = ⌊x⌋; dy/dx = 0.</summary>
public readonly struct Floor : IUnaryFunction
{
    public string Name => "Floor";
    public float Value(float x) => MathF.Floor(x);
    public float Derivative(float x, float y) => 0f;
}

/// <summary>y = ⌈x⌉; dy/dx = 0.</summary>
public readonly struct Ceil : IUnaryFunction
{
    public string Name => "Ceil";
    public float Value(float x) => MathF.Ceiling(x);
    public float Derivative(float x, float y) => 0f;
}

/// <summary>y = x rounded to the nearest integer, halves to even (ONNX Round: 0.5 → 0, 1.5 → 2, −2.5 → −2); dy/dx = 0.</summary>
public readonly struct Round : IUnaryFunction
{
    public string Name => "Round";
    public float Value(float x) => ScalarMath.RoundHalfToEven(x);
    public float Derivative(float x, float y) => 0f;
}

/// <summary>y = x rounded toward zero (−1.7 → −1); dy/dx = 0.</summary>
public readonly struct Truncate : IUnaryFunction
{
    public string Name => "Truncate";
    public float Value(float x) => ScalarMath.Truncate(x);
    public float Derivative(float x, float y) => 0f;
}

/// <summary>y = (float)(Half)x, the nearest half-precision value (ties to even); dy/dx = 1 (a straight-through cast).</summary>
public readonly struct RoundToHalf : IUnaryFunction
{
    public string Name => "RoundToHalf";
    public float Value(float x) => ScalarMath.RoundToHalf(x);
    public float Derivative(float x, float y) => 1f;
}

/// <summary>y = x rounded to the nearest bfloat16 (ties to even); dy/dx = 1 (a straight-through cast).</summary>
public readonly struct RoundToBFloat16 : IUnaryFunction
{
    public string Name => "RoundToBFloat16";
    public float Value(float x) => ScalarMath.RoundToBFloat16(x);
    public float Derivative(float x, float y) => 1f;
}
