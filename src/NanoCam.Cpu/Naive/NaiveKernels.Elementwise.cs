using NanoCam.Elementwise;

namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    public void ActivationForward(Activation kind, Tensor output, Tensor input, ActivationParams p)
    {
        Check.SameSize(output, input, "activation");
        var y = output.Span;
        var x = input.Span;
        for (int i = 0; i < x.Length; i++) y[i] = Activate(kind, x[i], p);
    }

    public void ActivationBackward(Activation kind, Tensor dInput, Tensor dOutput, Tensor input, Tensor output, ActivationParams p)
    {
        var dx = dInput.Span;
        var dy = dOutput.Span;
        var x = input.Span;
        var y = output.Span;
        for (int i = 0; i < dx.Length; i++) dx[i] += Derivative(kind, x[i], y[i], p) * dy[i];
    }

    public void ReluBackward(ReluBackwardRule rule, Tensor dInput, Tensor dOutput, Tensor input, bool accumulate = true)
    {
        if (!accumulate) Fill(dInput, 0f);
        var dx = dInput.Span;
        var dy = dOutput.Span;
        var x = input.Span;
        for (int i = 0; i < dx.Length; i++)
        {
            bool pass = rule switch
            {
                ReluBackwardRule.Standard => x[i] > 0,
                ReluBackwardRule.Guided => x[i] > 0 && dy[i] > 0,
                _ => dy[i] > 0, // deconvnet
            };
            if (pass) dx[i] += dy[i];
        }
    }

    /// <summary>y = f(x) for one element; the SIMD backend's operator structs must agree with this.</summary>
    public static float Activate(Activation kind, float x, ActivationParams p) => kind switch
    {
        Activation.Relu => x > 0 ? x : 0,
        Activation.LeakyRelu => x > 0 ? x : p.Alpha * x,
        Activation.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        Activation.Clip => MathF.Min(MathF.Max(x, p.Low), p.High),
        _ => x,
    };

    /// <summary>f'(x), written with the forward output y where that is cheaper (sigmoid: y(1 − y)).</summary>
    public static float Derivative(Activation kind, float x, float y, ActivationParams p) => kind switch
    {
        Activation.Relu => x > 0 ? 1 : 0,
        Activation.LeakyRelu => x > 0 ? 1 : p.Alpha,
        Activation.Sigmoid => y * (1 - y),
        Activation.Clip => x >= p.Low && x <= p.High ? 1 : 0,
        _ => 1,
    };

    /// <summary>a ∘ b for the four arithmetic ops, through the generic broadcast kernel and the ops' operator structs.</summary>
    public void BinaryForward(BinaryOp op, Tensor output, Tensor a, Tensor b)
    {
        switch (op)
        {
            case BinaryOp.Add: BinaryForward(output, a, b, new Elementwise.Add()); break;
            case BinaryOp.Sub: BinaryForward(output, a, b, new Elementwise.Subtract()); break;
            case BinaryOp.Mul: BinaryForward(output, a, b, new Elementwise.Multiply()); break;
            default: BinaryForward(output, a, b, new Elementwise.Divide()); break;
        }
    }

    /// <summary>
    /// ∂(a ∘ b) through the generic broadcast kernel; these derivatives read a and b only, so dOutput stands in for the
    /// output y that this signature does not carry.
    /// </summary>
    public void BinaryBackward(BinaryOp op, Tensor? dA, Tensor? dB, Tensor dOutput, Tensor a, Tensor b)
    {
        switch (op)
        {
            case BinaryOp.Add: BinaryBackward(dA, dB, dOutput, a, b, dOutput, new Elementwise.Add()); break;
            case BinaryOp.Sub: BinaryBackward(dA, dB, dOutput, a, b, dOutput, new Elementwise.Subtract()); break;
            case BinaryOp.Mul: BinaryBackward(dA, dB, dOutput, a, b, dOutput, new Elementwise.Multiply()); break;
            default: BinaryBackward(dA, dB, dOutput, a, b, dOutput, new QuotientOfOperands()); break;
        }
    }

    /// <summary>y = a/b with ∂y/∂a = 1/b and ∂y/∂b = −a/b² from the operands (Divide's −y/b reads y).</summary>
    private readonly struct QuotientOfOperands : IBinaryFunction
    {
        public string Name => "Div";
        public float Value(float a, float b) => a / b;
        public float DerivativeA(float a, float b, float y) => 1f / b;
        public float DerivativeB(float a, float b, float y) => -a / (b * b);
    }
}
