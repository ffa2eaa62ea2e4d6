using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// The element-wise operators that are one operator struct each (value and derivative in NanoCam.Elementwise), with
/// their ONNX attributes: adding one is a line here and a line in the registry.
/// </summary>
internal static class ElementwiseUnary
{
    public static readonly OnnxOperator Abs = Of("Abs", _ => new Abs());
    public static readonly OnnxOperator Neg = Of("Neg", _ => new Neg());
    public static readonly OnnxOperator Exp = Of("Exp", _ => new Exp());
    public static readonly OnnxOperator Log = Of("Log", _ => new Log());
    public static readonly OnnxOperator Sqrt = Of("Sqrt", _ => new Sqrt());
    public static readonly OnnxOperator Reciprocal = Of("Reciprocal", _ => new Reciprocal());
    public static readonly OnnxOperator Sign = Of("Sign", _ => new Sign());
    public static readonly OnnxOperator Floor = Of("Floor", _ => new Floor());
    public static readonly OnnxOperator Ceil = Of("Ceil", _ => new Ceil());
    public static readonly OnnxOperator Round = Of("Round", _ => new Round());
    public static readonly OnnxOperator Tanh = Of("Tanh", _ => new Tanh());
    public static readonly OnnxOperator Erf = Of("Erf", _ => new Erf());
    public static readonly OnnxOperator Softplus = Of("Softplus", _ => new Softplus());
    public static readonly OnnxOperator Softsign = Of("Softsign", _ => new Softsign());
    public static readonly OnnxOperator Mish = Of("Mish", _ => new Mish());
    public static readonly OnnxOperator HardSwish = Of("HardSwish", _ => new HardSwish());
    public static readonly OnnxOperator HardSigmoid = Of("HardSigmoid", n => new HardSigmoid(n.Float("alpha", 0.2f), n.Float("beta", 0.5f)));
    public static readonly OnnxOperator Elu = Of("Elu", n => new Elu(n.Float("alpha", 1f)));
    public static readonly OnnxOperator Celu = Of("Celu", n => new Celu(n.Float("alpha", 1f)));
    // SELU's defaults are the float32 values of the constants in Klambauer et al. 2017.
    public static readonly OnnxOperator Selu = Of("Selu", n => new Selu(n.Float("alpha", 1.67326319217681884765625f), n.Float("gamma", 1.05070102214813232421875f)));
    public static readonly OnnxOperator Gelu = OnnxOperator.Single("Gelu", c => c.Node.String("approximate", "none") switch
    {
        "none" => Apply(c, new Gelu()),
        "tanh" => Apply(c, new GeluTanh()),
        var other => throw c.Unsupported($"approximate '{DisplayText.Quote(other)}' is not one of none, tanh"),
    });

    private static OnnxOperator Of<TOp>(string opType, Func<OnnxNode, TOp> make) where TOp : struct, IUnaryFunction =>
        OnnxOperator.Single(opType, c => Apply(c, make(c.Node)));

    /// <summary>y = f(x) on the tape; an integer input (Abs, Neg, Sign of INT64 shape values) keeps its element type.</summary>
    public static OnnxValue Apply<TOp>(OnnxOperatorContext c, TOp op) where TOp : struct, IUnaryFunction =>
        OnnxOperatorContext.Result(c.Tape.Unary(c.Float(0), op), c.Input(0).ElementType);
}
