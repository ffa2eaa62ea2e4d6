using NanoCam.Elementwise;

namespace NanoCam;

/// <summary>The activation an inference convolution applies to its output, y = act(conv(x, w) + b).</summary>
public enum EpilogueActivation
{
    /// <summary>y = x.</summary>
    Identity,
    /// <summary>y = x &gt; 0 ? x : 0.</summary>
    Relu,
    /// <summary>y = x &gt; 0 ? x : α·x (α = <see cref="ConvEpilogue.A"/>).</summary>
    LeakyRelu,
    /// <summary>y = min(max(x, A), B) (ReLU6 is Clip(0, 6)).</summary>
    Clip,
    /// <summary>y = σ(x).</summary>
    Sigmoid,
    /// <summary>y = max(0, min(1, A·x + B)).</summary>
    HardSigmoid,
    /// <summary>y = x·max(0, min(6, x + 3))/6 (ONNX HardSwish).</summary>
    HardSwish,
    /// <summary>y = x·σ(x) (SiLU: Mul(x, Sigmoid(x))).</summary>
    Silu,
    /// <summary>y = x·max(0, min(1, A·x + B)) (Mul(x, HardSigmoid(x)): HardSwish as exported before opset 14).</summary>
    HardSigmoidGate,
}

/// <summary>
/// What <see cref="IKernels.Conv2dInference"/> applies to each output value after the bias: an activation kind and its
/// two parameters (α for leaky ReLU; the bounds for Clip; α, β for HardSigmoid and its gate). The scalar definition,
/// <see cref="Apply"/>, is the element-wise operator struct of the activation that the unfused graph runs.
/// </summary>
public readonly record struct ConvEpilogue(EpilogueActivation Kind, float A = 0f, float B = 0f)
{
    /// <summary>No activation.</summary>
    public static ConvEpilogue None => default;

    /// <summary>ReLU.</summary>
    public static ConvEpilogue Relu => new(EpilogueActivation.Relu);

    /// <summary>Whether the epilogue changes nothing after the bias.</summary>
    public bool IsIdentity => Kind == EpilogueActivation.Identity;

    /// <summary>act(x), by the same operator structs the unfused activations run.</summary>
    public float Apply(float x) => Kind switch
    {
        EpilogueActivation.Identity => x,
        EpilogueActivation.Relu => x > 0 ? x : 0f,
        EpilogueActivation.LeakyRelu => new LeakyRelu(A).Value(x),
        EpilogueActivation.Clip => new Clip(A, B).Value(x),
        EpilogueActivation.Sigmoid => ScalarMath.Sigmoid(x),
        EpilogueActivation.HardSigmoid => new HardSigmoid(A, B).Value(x),
        EpilogueActivation.HardSwish => new HardSwish().Value(x),
        EpilogueActivation.Silu => new Silu().Value(x),
        EpilogueActivation.HardSigmoidGate => new HardSigmoidGate(A, B).Value(x),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown epilogue activation"),
    };

    /// <summary>
    /// tensor = act(tensor) in place with <paramref name="kernels"/>' own element-wise kernels (what a backend without
    /// a fused epilogue runs after its convolution).
    /// </summary>
    public void ApplyInPlace(IKernels kernels, Tensor tensor)
    {
        switch (Kind)
        {
            case EpilogueActivation.Identity: break;
            case EpilogueActivation.Relu: kernels.ActivationForward(Activation.Relu, tensor, tensor, default); break;
            case EpilogueActivation.LeakyRelu: kernels.ActivationForward(Activation.LeakyRelu, tensor, tensor, new ActivationParams(Alpha: A)); break;
            case EpilogueActivation.Clip: kernels.ActivationForward(Activation.Clip, tensor, tensor, new ActivationParams(Low: A, High: B)); break;
            case EpilogueActivation.Sigmoid: kernels.ActivationForward(Activation.Sigmoid, tensor, tensor, default); break;
            case EpilogueActivation.HardSigmoid: kernels.UnaryForward(tensor, tensor, new HardSigmoid(A, B)); break;
            case EpilogueActivation.HardSwish: kernels.UnaryForward(tensor, tensor, new HardSwish()); break;
            case EpilogueActivation.Silu: kernels.UnaryForward(tensor, tensor, new Silu()); break;
            case EpilogueActivation.HardSigmoidGate: kernels.UnaryForward(tensor, tensor, new HardSigmoidGate(A, B)); break;
            default: throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown epilogue activation");
        }
    }

    public override string ToString() => Kind switch
    {
        EpilogueActivation.LeakyRelu => $"LeakyRelu({A:G})",
        EpilogueActivation.Clip => $"Clip({A:G}, {B:G})",
        EpilogueActivation.HardSigmoid or EpilogueActivation.HardSigmoidGate => $"{Kind}({A:G}, {B:G})",
        _ => Kind.ToString(),
    };
}
