namespace NanoCam.Elementwise;

/// <summary>An element-wise y = f(a, b) with both partial derivatives, run by each backend's generic broadcasting binary kernel.</summary>
/// <remarks>The same rules as <see cref="IUnaryFunction"/>: a readonly struct, value-type fields only, kernel-safe math.</remarks>
public interface IBinaryFunction
{
    /// <summary>The operation's name, the kind of the tape node that runs it ("Pow", "Maximum", …); never read inside a kernel.</summary>
    string Name { get; }

    /// <summary>y = f(a, b).</summary>
    float Value(float a, float b);

    /// <summary>∂y/∂a at (a, b), given y = Value(a, b).</summary>
    float DerivativeA(float a, float b, float y);

    /// <summary>∂y/∂b at (a, b), given y = Value(a, b).</summary>
    float DerivativeB(float a, float b, float y);
}
