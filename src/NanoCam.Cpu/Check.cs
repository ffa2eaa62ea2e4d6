namespace NanoCam.Cpu;

/// <summary>Shape checks shared by the CPU kernels; each message names the op and both shapes.</summary>
internal static class Check
{
    public static void SameSize(Tensor a, Tensor b, string op)
    {
        if (a.Size != b.Size) throw new ArgumentException($"{op}: {a.Shape} and {b.Shape} differ in size");
    }

    public static void Shape(Tensor t, Shape expected, string op, string what)
    {
        if (t.Shape.Size != expected.Size) throw new ArgumentException($"{op}: {what} has shape {t.Shape}, expected {expected}");
    }

    /// <summary>Convolution operands against their geometry; sizes only, so nothing is allocated on the hot path.</summary>
    public static void Conv(Conv2dGeometry g, Tensor output, Tensor input, Tensor weight)
    {
        if (output.Size != g.OutputSize) throw new ArgumentException($"conv2d: output has shape {output.Shape}, expected {g.OutputShape}");
        if (input.Size != g.InputSize) throw new ArgumentException($"conv2d: input has shape {input.Shape}, expected {g.InputShape}");
        if (weight.Size != g.WeightSize) throw new ArgumentException($"conv2d: weight has shape {weight.Shape}, expected {g.WeightShape}");
    }

    /// <summary>Pooling operands against their geometry (sizes only: nothing allocated on the hot path).</summary>
    public static void Pool(Pool2dGeometry g, Tensor output, Tensor input, string op)
    {
        if (output.Size != g.Batch * g.Channels * g.OutputHeight * g.OutputWidth) throw new ArgumentException($"{op}: output has shape {output.Shape}, expected {g.OutputShape}");
        if (!g.IsInputShape(input.Shape)) throw new ArgumentException($"{op}: input has shape {input.Shape}, expected {g.InputShape}");
    }

    /// <summary>Batch norm sees NCHW (or [N, C]) as N × C planes of H·W values.</summary>
    public static (int Batch, int Channels, int Plane) BatchNormLayout(Tensor input)
    {
        if (input.Shape.Rank < 2) throw new ArgumentException($"batch norm: input {input.Shape} needs at least [N, C]");
        return (input.Shape[0], input.Shape[1], input.Shape.Product(2, input.Shape.Rank));
    }
}
