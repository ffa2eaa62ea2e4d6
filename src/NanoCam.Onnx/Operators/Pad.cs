using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// Pad in the modes constant, reflect, edge and wrap: pads (an attribute before opset 11, a known input from 11 on) as
/// all begins then all ends; negative pads crop; the constant value and, from opset 18, the axes are optional inputs.
/// </summary>
internal static class Pad
{
    public static readonly OnnxOperator Operator = OnnxOperator.Single("Pad", Run);

    private static OnnxValue Run(OnnxOperatorContext c)
    {
        var x = c.Input(0);
        // Worked out in a method of its own: its lambdas' closure would otherwise be allocated on every call.
        var plan = c.TryRecall(out PadPlan recalled) ? recalled : c.Remember(Plan(c, x));
        return OnnxOperatorContext.Result(c.Tape.Pad(c.Float(0), plan.Begin, plan.End, plan.Mode, plan.Value), x.ElementType);
    }

    private static PadPlan Plan(OnnxOperatorContext c, OnnxValue x)
    {
        int rank = x.Dims.Length;
        long[] pads;
        float value;
        long[]? axes = null;
        if (c.Opset < 11)
        {
            pads = c.Node.Ints(c.Opset < 2 ? "paddings" : "pads") ?? throw c.Invalid("pads is required");
            value = c.Node.Float("value", 0f);
        }
        else
        {
            pads = c.KnownIntegers(1);
            value = c.Has(2) && c.Input(2).Size > 0 ? c.KnownScalar(2) : 0f;
            if (c.Opset >= 18) axes = c.OptionalKnownIntegers(3);
        }
        var padded = axes?.Select(a => (int)(a < 0 ? a + rank : a)).ToArray() ?? Enumerable.Range(0, rank).ToArray();
        if (pads.Length != 2 * padded.Length || padded.Any(a => a < 0 || a >= rank))
            throw c.Invalid($"pads has {pads.Length} values for {padded.Length} axes of {x}");
        var begin = new int[rank];
        var end = new int[rank];
        for (int i = 0; i < padded.Length; i++)
        {
            begin[padded[i]] = checked((int)pads[i]);
            end[padded[i]] = checked((int)pads[i + padded.Length]);
        }
        var mode = c.Node.String("mode", "constant") switch
        {
            "constant" => BorderMode.Constant,
            "reflect" => BorderMode.Reflect,
            "edge" => BorderMode.Edge,
            "wrap" => BorderMode.Wrap,
            var other => throw c.Unsupported($"mode '{DisplayText.Quote(other)}' is not one of constant, reflect, edge, wrap"),
        };
        return new PadPlan(begin, end, mode, value);
    }

    private sealed record PadPlan(int[] Begin, int[] End, BorderMode Mode, float Value);
}
