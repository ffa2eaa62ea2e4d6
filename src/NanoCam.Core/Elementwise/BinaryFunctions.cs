namespace NanoCam.Elementwise;

// Element-wise binary functions: y = f(a, b) and both partial derivatives beside it (the generic binary kernels
// broadcast a and b NumPy-style and sum each partial over the axes its operand was broadcast along).

/// <summary>y = a + b; ∂y/∂a = 1, ∂y/∂b = 1 (the generic twin of BinaryOp.Add).</summary>
public readonly struct Add : IBinaryFunction
{
    public string Name => "Add";
    public float Value(float a, float b) => a + b;
    public float DerivativeA(float a, float b, float y) => 1f;
    public float DerivativeB(float a, float b, float y) => 1f;
}

/// <summary>y = a − b; ∂y/∂a = 1, ∂y/∂b = −1 (the generic twin of BinaryOp.Sub).</summary>
public readonly struct Subtract : IBinaryFunction
{
    public string Name => "Subtract";
    public float Value(float a, float b) => a - b;
    public float DerivativeA(float a, float b, float y) => 1f;
    public float DerivativeB(float a, float b, float y) => -1f;
}

/// <summary>y = a·b; ∂y/∂a = b, ∂y/∂b = a (the generic twin of BinaryOp.Mul, for composing with the other structs).</summary>
public readonly struct Multiply : IBinaryFunction
{
    public string Name => "Multiply";
    public float Value(float a, float b) => a * b;
    public float DerivativeA(float a, float b, float y) => b;
    public float DerivativeB(float a, float b, float y) => a;
}

/// <summary>y = a/b; ∂y/∂a = 1/b, ∂y/∂b = −a/b² = −y/b (the generic twin of BinaryOp.Div).</summary>
public readonly struct Divide : IBinaryFunction
{
    public string Name => "Divide";
    public float Value(float a, float b) => a / b;
    public float DerivativeA(float a, float b, float y) => 1f / b;
    public float DerivativeB(float a, float b, float y) => -y / b;
}

/// <summary>y = a^b; ∂y/∂a = b·a^(b−1) (0 for b = 0), ∂y/∂b = y·ln a for a &gt; 0, else 0.</summary>
public readonly struct Pow : IBinaryFunction
{
    public string Name => "Pow";
    public float Value(float a, float b) => MathF.Pow(a, b);
    public float DerivativeA(float a, float b, float y) => b == 0f ? 0f : b * MathF.Pow(a, b - 1f);
    public float DerivativeB(float a, float b, float y) => a > 0f ? y * MathF.Log(a) : 0f;
}

/// <summary>y = max(a, b) (NaN if either is); the gradient goes to the larger operand, split 0.5/0.5 on a tie (PyTorch).</summary>
public readonly struct Maximum : IBinaryFunction
{
    public string Name => "Maximum";
    public float Value(float a, float b) => a >= b || float.IsNaN(a) ? a : b;
    public float DerivativeA(float a, float b, float y) => a > b ? 1f : a == b ? 0.5f : 0f;
    public float DerivativeB(float a, float b, float y) => b > a ? 1f : a == b ? 0.5f : 0f;
}

/// <summary>y = min(a, b) (NaN if either is); the gradient goes to the smaller operand, split 0.5/0.5 on a tie (PyTorch).</summary>
public readonly struct Minimum : IBinaryFunction
{
    public string Name => "Minimum";
    public float Value(float a, float b) => a <= b || float.IsNaN(a) ? a : b;
    public float DerivativeA(float a, float b, float y) => a < b ? 1f : a == b ? 0.5f : 0f;
    public float DerivativeB(float a, float b, float y) => b < a ? 1f : a == b ? 0.5f : 0f;
}

/// <summary>
/// Parametric ReLU (He et al. 2015), a = x, b = slope: y = a &lt; 0 ? b·a : a; ∂y/∂a = a &gt; 0 ? 1 : b,
/// ∂y/∂b = a &gt; 0 ? 0 : a (PyTorch's prelu backward, the slope side at 0).
/// </summary>
public readonly struct PRelu : IBinaryFunction
{
    public string Name => "PRelu";
    public float Value(float a, float b) => a < 0f ? b * a : a;
    public float DerivativeA(float a, float b, float y) => a > 0f ? 1f : b;
    public float DerivativeB(float a, float b, float y) => a > 0f ? 0f : a;
}

/// <summary>
/// y = fmod(a, b) = a − b·trunc(a/b), the sign of a (C's fmod, ONNX Mod with fmod = 1); ∂y/∂a = 1,
/// ∂y/∂b = −trunc(a/b) (PyTorch's fmod backward).
/// </summary>
public readonly struct Mod : IBinaryFunction
{
    public string Name => "Mod";
    public float Value(float a, float b) => a % b;
    public float DerivativeA(float a, float b, float y) => 1f;
    public float DerivativeB(float a, float b, float y) => -ScalarMath.Truncate(a / b);
}
