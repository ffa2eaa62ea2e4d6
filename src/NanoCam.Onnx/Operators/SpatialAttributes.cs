namespace NanoCam.Onnx.Operators;

/// <summary>The attributes convolution and pooling share: kernel, strides, dilations and padding (explicit or auto_pad).</summary>
internal static class SpatialAttributes
{
    /// <summary>Begin and end padding per spatial axis, from explicit pads or auto_pad (SAME_*: out = ceil(in / stride)).</summary>
    public static (int[] Begin, int[] End) Padding(OnnxNode node, int[] inputSizes, int[] kernel, int[] strides, int[] dilations)
    {
        int n = inputSizes.Length;
        var begin = new int[n];
        var end = new int[n];
        var autoPad = node.String("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET" or "":
                var pads = node.Ints("pads");
                if (pads is not null)
                {
                    if (pads.Length != 2 * n) throw new ArgumentException($"pads has {pads.Length} values for {n} spatial axes");
                    for (int i = 0; i < n; i++) { begin[i] = (int)pads[i]; end[i] = (int)pads[i + n]; }
                }
                break;
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                for (int i = 0; i < n; i++)
                {
                    int output = (inputSizes[i] + strides[i] - 1) / strides[i];
                    int total = Math.Max(0, (output - 1) * strides[i] + dilations[i] * (kernel[i] - 1) + 1 - inputSizes[i]);
                    // SAME_UPPER puts the odd cell at the end, SAME_LOWER at the beginning.
                    begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[i] = total - begin[i];
                }
                break;
            default:
                throw new ArgumentException($"unknown auto_pad '{DisplayText.Quote(autoPad)}'");
        }
        return (begin, end);
    }

    /// <summary>An INTS attribute with one value per spatial axis, or <paramref name="fallback"/> on every axis when absent.</summary>
    public static int[] IntsOr(OnnxNode node, string name, int count, int fallback)
    {
        var values = node.Ints(name);
        if (values is null) return Enumerable.Repeat(fallback, count).ToArray();
        if (values.Length != count) throw new ArgumentException($"{name} has {values.Length} values for {count} spatial axes");
        return values.Select(v => checked((int)v)).ToArray();
    }
}
