using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Element-wise activations with attributes: Relu, LeakyRelu, Sigmoid, and Clip (bounds as attributes before opset 11, inputs after).</summary>
internal static class Activations
{
    public static readonly OnnxOperator Relu = OnnxOperator.Single("Relu", c => OnnxOperatorContext.Result(c.Tape.Relu(c.Float(0))));
    public static readonly OnnxOperator LeakyRelu = OnnxOperator.Single("LeakyRelu", c => OnnxOperatorContext.Result(c.Tape.LeakyRelu(c.Float(0), c.Node.Float("alpha", 0.01f))));
    public static readonly OnnxOperator Sigmoid = OnnxOperator.Single("Sigmoid", c => OnnxOperatorContext.Result(c.Tape.Sigmoid(c.Float(0))));
    public static readonly OnnxOperator Clip = OnnxOperator.Single("Clip", RunClip);

    /// <summary>Clip: min &gt; max gives max everywhere (the ONNX reference applies min then max).</summary>
    private static OnnxValue RunClip(OnnxOperatorContext c)
    {
        var x = c.Float(0);
        float low, high;
        if (c.Opset < 11)
        {
            low = c.Node.Float("min", float.NegativeInfinity);
            high = c.Node.Float("max", float.PositiveInfinity);
        }
        else
        {
            low = c.Has(1) ? c.KnownScalar(1) : float.NegativeInfinity;
            high = c.Has(2) ? c.KnownScalar(2) : float.PositiveInfinity;
        }
        return OnnxOperatorContext.Result(c.Tape.Clip(x, low, high), c.Input(0).ElementType);
    }
}
