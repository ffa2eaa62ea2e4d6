using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// LRN across channels (Krizhevsky et al. 2012, Sec. 3.3): y = x / (bias + (α/size)·Σ x_i²)^β, the sum over the channels
/// i from c − ⌊(size − 1)/2⌋ to c + ⌈(size − 1)/2⌉ that exist. The windowed sum of squares is an average pool of x²
/// over [N, 1, C, spatial] with a size×1 window whose padding counts (so (α/size)·Σ = α·average).
/// </summary>
internal static class LocalResponseNormalization
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("LRN", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var tape = c.Tape;
        var x = c.Float(0);
        var dims = x.Shape.ToArray();
        if (dims.Length < 2) throw c.Invalid($"X must be [N, C, …], got {c.Input(0)}");
        long size = c.Node.Int("size", 0);
        if (size < 1) throw c.Invalid($"size must be a positive integer, got {size}");
        float alpha = c.Node.Float("alpha", 1e-4f), beta = c.Node.Float("beta", 0.75f), bias = c.Node.Float("bias", 1f);
        int batch = dims[0], channels = dims[1], spatial = x.Shape.Product(2, dims.Length), window = (int)size;
        var squares = tape.Reshape(tape.Unary(x, new Square()), [batch, 1, channels, spatial]);
        var geometry = new Pool2dGeometry(batch, 1, channels, spatial, window, 1, 1, 1,
            PadTop: (window - 1) / 2, PadLeft: 0, PadBottom: window / 2, PadRight: 0);
        geometry.Validate();
        var average = tape.AvgPool2d(squares, geometry, countIncludePad: true);
        var denominator = tape.Unary(tape.Unary(tape.Unary(average, new Scale(alpha)), new Shift(bias)), new PowScalar(beta));
        return OnnxOperatorContext.Result(tape.Div(x, tape.Reshape(denominator, dims)), c.Input(0).ElementType);
    }
}
