namespace NanoCam.Elementwise;

// Element-wise arithmetic: y = f(x) and dy/dx beside it.

/// <summary>y = e^x; dy/dx = y.</summary>
public readonly struct Exp : IUnaryFunction
{
    public string Name => "Exp";
    public float Value(float x) => MathF.Exp(x);
    public float Derivative(float x, float y) => y;
}

/// <summary>y = ln x; dy/dx = 1/x.</summary>
public readonly struct Log : IUnaryFunction
{
    public string Name => "Log";
    public float Value(float x) => MathF.Log(x);
    public float Derivative(float x, float y) => 1f / x;
}

/// <summary>y = √x; dy/dx = 1/(2y).</summary>
public readonly struct Sqrt : IUnaryFunction
{
    public string Name => "Sqrt";
    public float Value(float x) => MathF.Sqrt(x);
    public float Derivative(float x, float y) => 0.5f / y;
}

/// <summary>y = −x; dy/dx = −1.</summary>
public readonly struct Neg : IUnaryFunction
{
    public string Name => "Neg";
    public float Value(float x) => -x;
    public float Derivative(float x, float y) => -1f;
}

/// <summary>y = |x|; dy/dx = sign(x), 0 at 0 (PyTorch's choice at the kink).</summary>
public readonly struct Abs : IUnaryFunction
{
    public string Name => "Abs";
    public float Value(float x) => MathF.Abs(x);
    public float Derivative(float x, float y) => x > 0 ? 1f : x < 0 ? -1f : 0f;
}

/// <summary>y = 1/x; dy/dx = −1/x² = −y².</summary>
public readonly struct Reciprocal : IUnaryFunction
{
    public string Name => "Reciprocal";
    public float Value(float x) => 1f / x;
    public float Derivative(float x, float y) => -y * y;
}

/// <summary>y = sign(x) ∈ {−1, 0, 1} (NaN stays NaN); dy/dx = 0.</summary>
public readonly struct Sign : IUnaryFunction
{
    public string Name => "Sign";
    public float Value(float x) => x > 0 ? 1f : x < 0 ? -1f : x == 0 ? 0f : x;
    public float Derivative(float x, float y) => 0f;
}

/// <summary>y = x²; dy/dx = 2x.</summary>
public readonly struct Square : IUnaryFunction
{
    public string Name => "Square";
    public float Value(float x) => x * x;
    public float Derivative(float x, float y) => 2f * x;
}

/// <summary>y = x^p for a constant exponent p; dy/dx = p·x^(p−1) (0 for p = 0).</summary>
public readonly struct PowScalar(float exponent) : IUnaryFunction
{
    public float Exponent { get; } = exponent;
    public string Name => "PowScalar";
    public float Value(float x) => MathF.Pow(x, Exponent);
    public float Derivative(float x, float y) => Exponent == 0f ? 0f : Exponent * MathF.Pow(x, Exponent - 1f);
}

/// <summary>y = k·x for a constant factor k; dy/dx = k.</summary>
public readonly struct Scale(float factor) : IUnaryFunction
{
    public float Factor { get; } = factor;
    public string Name => "Scale";
    public float Value(float x) => Factor * x;
    public float Derivative(float x, float y) => Factor;
}

/// <summary>y = x + c for a constant offset c; dy/dx = 1.</summary>
public readonly struct Shift(float offset) : IUnaryFunction
{
    public float Offset { get; } = offset;
    public string Name => "Shift";
    public float Value(float x) => x + Offset;
    public float Derivative(float x, float y) => 1f;
}
