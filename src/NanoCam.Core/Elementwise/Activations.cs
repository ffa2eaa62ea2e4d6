namespace NanoCam.Elementwise;

// Activation functions: y = f(x) and dy/dx beside it. At a kink the derivative follows PyTorch (ReLU'(0) = 0, Clip
// passes its bounds). Every tail is overflow-safe for |x| up to 1e4 and keeps its relative accuracy (see ScalarMath).

/// <summary>y = max(x, 0); dy/dx = [x &gt; 0] (0 at 0).</summary>
public readonly struct Relu : IVectorUnaryGradient
{
    public string Name => "Relu";
    public float Value(float x) => x <= 0 ? 0f : x;
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereLessThanOrEqual(x, TLanes.Zero, TLanes.Zero, x);
    public float Derivative(float x, float y) => x > 0 ? 1f : 0f;
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereGreaterThan(x, TLanes.Zero, TLanes.Create(1f), TLanes.Zero);
}

/// <summary>y = x for x &gt; 0, else α·x; dy/dx = 1 or α.</summary>
public readonly struct LeakyRelu(float alpha) : IVectorUnaryGradient
{
    public float Alpha { get; } = alpha;
    public string Name => "LeakyRelu";
    public float Value(float x) => x > 0 ? x : Alpha * x;
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereGreaterThan(x, TLanes.Zero, x, TLanes.Create(Alpha) * x);
    public float Derivative(float x, float y) => x > 0 ? 1f : Alpha;
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereGreaterThan(x, TLanes.Zero, TLanes.Create(1f), TLanes.Create(Alpha));
}

/// <summary>y = σ(x) = 1/(1 + e^−x); dy/dx = σ(x)·σ(−x).</summary>
public readonly struct Sigmoid : IVectorUnaryGradient
{
    public string Name => "Sigmoid";
    public float Value(float x) => ScalarMath.Sigmoid(x);
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.Sigmoid(x);
    public float Derivative(float x, float y) => ScalarMath.SigmoidDerivative(x);
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.SigmoidDerivative(x);
}

/// <summary>y = tanh x; dy/dx = 1 − tanh² x.</summary>
public readonly struct Tanh : IVectorUnaryGradient
{
    public string Name => "Tanh";
    public float Value(float x) => MathF.Tanh(x);
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.Tanh(x);
    public float Derivative(float x, float y) => ScalarMath.TanhDerivative(x);
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.TanhDerivative(x);
}

/// <summary>y = min(max(x, low), high) (ONNX Clip; ReLU6 is Clip(0, 6)); dy/dx = [low ≤ x ≤ high].</summary>
public readonly struct Clip(float low, float high) : IVectorUnaryGradient
{
    public float Low { get; } = low;
    public float High { get; } = high;
    public string Name => "Clip";
    public float Value(float x) => MathF.Min(MathF.Max(x, Low), High);
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => TLanes.Min(TLanes.Max(x, TLanes.Create(Low)), TLanes.Create(High));
    public float Derivative(float x, float y) => x >= Low && x <= High ? 1f : 0f;
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereGreaterThanOrEqual(x, TLanes.Create(Low), TLanes.SelectWhereLessThanOrEqual(x, TLanes.Create(High), TLanes.Create(1f), TLanes.Zero), TLanes.Zero);
}

/// <summary>y = max(0, min(1, α·x + β)) (ONNX HardSigmoid, default α = 0.2, β = 0.5); dy/dx = α inside (0, 1), else 0.</summary>
public readonly struct HardSigmoid(float alpha, float beta) : IVectorUnaryGradient
{
    public float Alpha { get; } = alpha;
    public float Beta { get; } = beta;
    public string Name => "HardSigmoid";
    public float Value(float x) => MathF.Max(0f, MathF.Min(1f, Alpha * x + Beta));
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => TLanes.Max(TLanes.Min(TLanes.Create(Alpha) * x + TLanes.Create(Beta), 1f), 0f);
    public float Derivative(float x, float y)
    {
        float z = Alpha * x + Beta;
        return z > 0f && z < 1f ? Alpha : 0f;
    }

    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes>
    {
        var z = TLanes.Create(Alpha) * x + TLanes.Create(Beta);
        return TLanes.SelectWhereGreaterThan(z, TLanes.Zero, TLanes.SelectWhereLessThan(z, TLanes.Create(1f), TLanes.Create(Alpha), TLanes.Zero), TLanes.Zero);
    }
}

/// <summary>
/// y = x · HardSigmoid(1/6, 1/2)(x) = x · max(0, min(1, x/6 + 1/2)); dy/dx = 0 below −3, x/3 + 1/2 on [−3, 3], 1 above
/// (PyTorch's hardswish_backward, bounds included in the middle piece).
/// </summary>
public readonly struct HardSwish : IVectorUnaryGradient
{
    public string Name => "HardSwish";
    public float Value(float x) => x * MathF.Max(0f, MathF.Min(6f, x + 3f)) / 6f;   // x + 3 is exact near −3, x/6 + 1/2 is not
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => x * TLanes.Max(TLanes.Min(x + TLanes.Create(3f), 6f), 0f) / TLanes.Create(6f);
    public float Derivative(float x, float y) => x < -3f ? 0f : x <= 3f ? x / 3f + 0.5f : 1f;
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereLessThan(x, TLanes.Create(-3f), TLanes.Zero,
        TLanes.SelectWhereLessThanOrEqual(x, TLanes.Create(3f), x / TLanes.Create(3f) + TLanes.Create(0.5f), TLanes.Create(1f)));
}

/// <summary>y = ln(1 + e^x), computed as max(x, 0) + ln(1 + e^−|x|); dy/dx = σ(x).</summary>
public readonly struct Softplus : IVectorUnaryGradient
{
    public string Name => "Softplus";
    public float Value(float x) => ScalarMath.Softplus(x);
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.Softplus(x);
    public float Derivative(float x, float y) => ScalarMath.Sigmoid(x);
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.Sigmoid(x);
}

/// <summary>y = x/(1 + |x|); dy/dx = 1/(1 + |x|)².</summary>
public readonly struct Softsign : IVectorUnaryGradient
{
    public string Name => "Softsign";
    public float Value(float x) => x / (1f + MathF.Abs(x));
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => x / (TLanes.Create(1f) + TLanes.Abs(x));
    public float Derivative(float x, float y)
    {
        float d = 1f + MathF.Abs(x);
        return 1f / (d * d);
    }

    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes>
    {
        var d = TLanes.Create(1f) + TLanes.Abs(x);
        return TLanes.Create(1f) / (d * d);
    }
}

/// <summary>y = x for x &gt; 0, else α(e^x − 1) (Clevert et al. 2016); dy/dx = 1, else α·e^x.</summary>
public readonly struct Elu(float alpha) : IVectorUnaryGradient
{
    public float Alpha { get; } = alpha;
    public string Name => "Elu";
    public float Value(float x) => x > 0 ? x : Alpha * ScalarMath.ExpM1(x);
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereGreaterThan(x, TLanes.Zero, x, TLanes.Create(Alpha) * VectorMath.ExpM1(x));
    public float Derivative(float x, float y) => x > 0 ? 1f : Alpha * MathF.Exp(x);
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereGreaterThan(x, TLanes.Zero, TLanes.Create(1f), TLanes.Create(Alpha) * TLanes.Exp(x));
}

/// <summary>
/// y = γ·(x for x &gt; 0, else α(e^x − 1)) (Klambauer et al. 2017; ONNX's defaults α ≈ 1.6733, γ ≈ 1.0507);
/// dy/dx = γ, else γ·α·e^x.
/// </summary>
public readonly struct Selu(float alpha, float gamma) : IVectorUnaryGradient
{
    public float Alpha { get; } = alpha;
    public float Gamma { get; } = gamma;
    public string Name => "Selu";
    public float Value(float x) => Gamma * (x > 0 ? x : Alpha * ScalarMath.ExpM1(x));
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => TLanes.Create(Gamma) * TLanes.SelectWhereGreaterThan(x, TLanes.Zero, x, TLanes.Create(Alpha) * VectorMath.ExpM1(x));
    public float Derivative(float x, float y) => Gamma * (x > 0 ? 1f : Alpha * MathF.Exp(x));
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => TLanes.Create(Gamma) * TLanes.SelectWhereGreaterThan(x, TLanes.Zero, TLanes.Create(1f), TLanes.Create(Alpha) * TLanes.Exp(x));
}

/// <summary>y = max(0, x) + min(0, α(e^(x/α) − 1)) (Barron 2017); dy/dx = 1 for x &gt; 0, else e^(x/α).</summary>
public readonly struct Celu(float alpha) : IVectorUnaryGradient
{
    public float Alpha { get; } = alpha;
    public string Name => "Celu";
    public float Value(float x) => x > 0 ? x : Alpha * ScalarMath.ExpM1(x / Alpha);
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereGreaterThan(x, TLanes.Zero, x, TLanes.Create(Alpha) * VectorMath.ExpM1(x / TLanes.Create(Alpha)));
    public float Derivative(float x, float y) => x > 0 ? 1f : MathF.Exp(x / Alpha);
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => TLanes.SelectWhereGreaterThan(x, TLanes.Zero, TLanes.Create(1f), TLanes.Exp(x / TLanes.Create(Alpha)));
}

/// <summary>y = x·tanh(softplus(x)) (Misra 2019); dy/dx = tanh(sp) + x·(1 − tanh²(sp))·σ(x), sp = softplus(x).</summary>
public readonly struct Mish : IVectorUnaryGradient
{
    public string Name => "Mish";
    public float Value(float x) => x * MathF.Tanh(ScalarMath.Softplus(x));
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.Mish(x);
    public float Derivative(float x, float y)
    {
        float t = MathF.Tanh(ScalarMath.Softplus(x));
        return t + x * (1f - t * t) * ScalarMath.Sigmoid(x);
    }
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.MishDerivative(x);
}

/// <summary>y = erf(x) = (2/√π) ∫_0^x e^−t² dt (see <see cref="ScalarMath.ErfDouble"/>); dy/dx = (2/√π)·e^−x².</summary>
public readonly struct Erf : IVectorUnaryGradient
{
    public string Name => "Erf";
    public float Value(float x) => ScalarMath.Erf(x);
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.Erf(x);
    public float Derivative(float x, float y) => 1.1283791670955126f * MathF.Exp(-x * x);
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.ErfDerivative(x);
}

/// <summary>
/// Exact GELU (Hendrycks &amp; Gimpel 2016): y = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), Φ the standard normal CDF (for x &lt; 0
/// from erfc, so the tail keeps its digits); dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
/// </summary>
public readonly struct Gelu : IVectorUnaryGradient
{
    public string Name => "Gelu";
    public float Value(float x) => x * NormalCdf(x);
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => x * VectorMath.NormalCdf(x);
    public float Derivative(float x, float y) => NormalCdf(x) + x * 0.3989422804014327f * MathF.Exp(-0.5f * x * x);
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.GeluDerivative(x);

    /// <summary>Φ(x) = 0.5·(1 + erf(x/√2)) = 0.5·erfc(−x/√2).</summary>
    private static float NormalCdf(float x)
    {
        double t = Math.Abs((double)x) * 0.7071067811865476;
        return x >= 0 ? (float)(0.5 + 0.5 * ScalarMath.ErfDouble(t)) : (float)(0.5 * ScalarMath.ErfcDouble(t));
    }
}

/// <summary>
/// GELU's tanh approximation: y = 0.5·x·(1 + tanh u), u = √(2/π)·(x + 0.044715·x³), computed in double as x·σ(2u)
/// (the same number, since 0.5·(1 + tanh u) = σ(2u), without 1 + tanh u cancelling for negative x);
/// dy/dx = σ(2u) + 2x·σ(2u)·σ(−2u)·√(2/π)·(1 + 3·0.044715·x²).
/// </summary>
public readonly struct GeluTanh : IUnaryFunction
{
    private const double Root2OverPi = 0.79788456080286536, Cubic = 0.044715;
    public string Name => "GeluTanh";
    public float Value(float x) => (float)(x * Sigmoid(TwoU(x)));
    public float Derivative(float x, float y)
    {
        double twoU = TwoU(x), s = Sigmoid(twoU), t = Sigmoid(-twoU);
        return (float)(s + 2 * x * s * t * Root2OverPi * (1 + 3 * Cubic * x * x));
    }

    private static double TwoU(double x) => 2 * Root2OverPi * (x + Cubic * x * x * x);

    /// <summary>σ(z) in double with e^−|z| ≤ 1, as <see cref="ScalarMath.Sigmoid"/>.</summary>
    private static double Sigmoid(double z)
    {
        double e = Math.Exp(-Math.Abs(z));
        return z >= 0 ? 1 / (1 + e) : e / (1 + e);
    }
}

/// <summary>
/// y = x·σ(x) (SiLU, Elfwing et al. 2018; "Swish" with β = 1, Ramachandran et al. 2017), the ONNX pattern Mul(x, Sigmoid(x));
/// dy/dx = σ(x) + x·σ(x)·σ(−x).
/// </summary>
public readonly struct Silu : IVectorUnaryGradient
{
    public string Name => "Silu";
    public float Value(float x) => x * ScalarMath.Sigmoid(x);
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => x * VectorMath.Sigmoid(x);
    public float Derivative(float x, float y) => ScalarMath.Sigmoid(x) + x * ScalarMath.SigmoidDerivative(x);
    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes> => VectorMath.Sigmoid(x) + x * VectorMath.SigmoidDerivative(x);
}

/// <summary>
/// y = x·max(0, min(1, α·x + β)): the ONNX pattern Mul(x, HardSigmoid(x)) that exporters write for HardSwish before
/// opset 14 (α = 1/6, β = 1/2); dy/dx = HardSigmoid(x) + x·α inside (0, 1).
/// </summary>
public readonly struct HardSigmoidGate(float alpha, float beta) : IVectorUnaryGradient
{
    public float Alpha { get; } = alpha;
    public float Beta { get; } = beta;
    public string Name => "HardSigmoidGate";
    public float Value(float x) => x * MathF.Max(0f, MathF.Min(1f, Alpha * x + Beta));
    public TLanes VectorValue<TLanes>(TLanes x) where TLanes : struct, IFloatLanes<TLanes> => x * TLanes.Max(TLanes.Min(TLanes.Create(Alpha) * x + TLanes.Create(Beta), 1f), 0f);
    public float Derivative(float x, float y)
    {
        float z = Alpha * x + Beta;
        return MathF.Max(0f, MathF.Min(1f, z)) + (z > 0f && z < 1f ? x * Alpha : 0f);
    }

    public TLanes VectorDerivative<TLanes>(TLanes x, TLanes y) where TLanes : struct, IFloatLanes<TLanes>
    {
        var z = TLanes.Create(Alpha) * x + TLanes.Create(Beta);
        var inside = TLanes.SelectWhereGreaterThan(z, TLanes.Zero, TLanes.SelectWhereLessThan(z, TLanes.Create(1f), x * TLanes.Create(Alpha), TLanes.Zero), TLanes.Zero);
        return TLanes.Max(TLanes.Min(z, 1f), 0f) + inside;
    }
}
