using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>Sum, Mean, Max and Min over any number of inputs with NumPy broadcasting, as a chain of binary tape ops.</summary>
internal static class Variadic
{
    public static readonly OnnxOperator Sum = OnnxOperator.Single("Sum", c => Fold(c, (tape, a, b) => tape.Add(a, b)));
    public static readonly OnnxOperator Max = OnnxOperator.Single("Max", c => Fold(c, (tape, a, b) => tape.Binary(a, b, new Maximum())));
    public static readonly OnnxOperator Min = OnnxOperator.Single("Min", c => Fold(c, (tape, a, b) => tape.Binary(a, b, new Minimum())));
    public static readonly OnnxOperator Mean = OnnxOperator.Single("Mean", c =>
    {
        int count = Enumerable.Range(0, c.InputCount).Count(c.Has);
        var sum = Fold(c, (tape, a, b) => tape.Add(a, b));
        return OnnxOperatorContext.Result(c.Tape.Unary(sum.Tensor!, new Scale(1f / count)), sum.ElementType);
    });

    private static OnnxValue Fold(OnnxOperatorContext c, Func<Autodiff.Tape, Tensor, Tensor, Tensor> combine)
    {
        var present = Enumerable.Range(0, c.InputCount).Where(c.Has).ToArray();
        if (present.Length == 0) throw c.Invalid("no inputs");
        // One input: a copy, so the output is a tensor of its own (it may be published under its own name).
        var result = present.Length == 1 ? c.Tape.Reshape(c.Float(present[0]), c.Float(present[0]).Shape.Dims) : c.Float(present[0]);
        foreach (var i in present.Skip(1)) result = combine(c.Tape, result, c.Float(i));
        return OnnxOperatorContext.Result(result, c.Input(present[0]).ElementType);
    }
}
