using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Explain.Methods;

/// <summary>
/// FG-CAM's resolution step (Qiu et al. 2023): explanation components R at a layer carried down to the model's input
/// through the operations a forward pass recorded, from the layer's operation back to the first convolution. Each
/// operation hands the R at its output to its input x by the relation between the two feature maps:
/// convolution — the pixels that contribute, x_i·w_ij &gt; 0, share R_j in proportion to their contribution:
/// R_i = Σ_j (x_i w_ij)⁺ · R_j / z_j, z_j = Σ_i (x_i w_ij)⁺ = conv(x⁺, w⁺) + conv(x⁻, w⁻) (the bias and the negative
/// contributions are filtered out); at the image itself the contribution is measured from the image's bounds l ≤ x ≤ h
/// (the z^B rule): R_i = Σ_j (x_i w_ij − l w⁺_ij − h w⁻_ij) · R_j / z_j with z_j the sum of those terms;
/// max pooling — the winner of each window, average pooling — the inputs in proportion to x⁺;
/// ReLU, batch normalization, dropout and reshapes — unchanged; concatenation — each input its slice. An imported graph's
/// bias or scale as its own node (x + b, x · s with a constant, as a convolution's bias or a decomposed batch norm) passes R
/// unchanged to x, as the convolution's bias and batch norm do; the sum of two feature maps a + b (a residual connection)
/// shares R as a convolution with weights 1 would: in proportion to a⁺ and b⁺.
/// A zero denominator hands nothing on.
/// </summary>
public static class FgCamPropagation
{
    /// <summary>The operations FG-CAM carries components through.</summary>
    public static IReadOnlyList<string> Supported { get; } =
        ["Conv2d", "MaxPool2d", "AvgPool2d", "GlobalAvgPool", "Relu", "BatchNorm", "Dropout", "Reshape", "Concat", "Add", "Sub", "Mul", "Div"];

    /// <summary>
    /// The components <paramref name="components"/> (shape <paramref name="shape"/>) at the tensor named
    /// <paramref name="layer"/>, carried down to the input: R [N, C, H, W] in the input's layout. One forward pass per
    /// chunk of images (recorded with gradients on, so that no operation is fused away; no backward pass runs).
    /// </summary>
    public static float[] ToInput(CamExplainer explainer, Tensor input, string layer, float[] components, int[] shape, string method)
    {
        int batch = input.Shape[0], size = input.Shape.Product(1, 4), componentSize = components.Length / batch;
        int chunk = Math.Max(1, Math.Min(batch, explainer.ImagesPerPass(input.Shape[1], input.Shape[2], input.Shape[3], withGradients: true)));
        var hostInput = input.ToArray();
        var relevance = new float[batch * size];
        for (int first = 0; first < batch; first += chunk)
        {
            int count = Math.Min(chunk, batch - first);
            var images = Tensor.FromArray(hostInput.AsSpan(first * size, count * size).ToArray(), [count, .. input.Shape.Dims[1..]]);
            var part = Chunk(explainer, images, layer, components.AsSpan(first * componentSize, count * componentSize).ToArray(), [count, .. shape[1..]], method);
            part.CopyTo(relevance.AsSpan(first * size, count * size));
        }
        return relevance;
    }

    private static float[] Chunk(CamExplainer explainer, Tensor images, string layer, float[] components, int[] shape, string method)
    {
        var kernels = explainer.Kernels;
        var tape = new Tape(kernels) { ParameterGradients = false };
        tape.Keep(layer);
        var x = kernels.Stage(images);
        explainer.Model.Scores(tape, x);
        if (!tape.Named.TryGetValue(layer, out var start))
            throw new ArgumentException($"layer '{layer}' does not exist in this model");
        if (!start.Shape.Dims.SequenceEqual(shape))
            throw new NotSupportedException($"{method}: layer '{layer}' has shape {start.Shape}; its components need a convolutional layer [N, K, h, w]");
        var nodes = tape.Nodes;
        int last = nodes.Count - 1;
        while (last >= 0 && !ReferenceEquals(nodes[last].Output, start)) last--;
        if (last < 0) throw new NotSupportedException($"{method}: layer '{layer}' is not the output of an operation");

        // The tensors computed from the image (the others are weights and constants, which receive nothing).
        var fromImage = new HashSet<Tensor>(ReferenceEqualityComparer.Instance) { x };
        for (int i = 0; i <= last; i++)
            foreach (var operand in nodes[i].Inputs)
                if (fromImage.Contains(operand))
                {
                    fromImage.Add(nodes[i].Output);
                    break;
                }
        var relevance = new Dictionary<Tensor, float[]>(ReferenceEqualityComparer.Instance) { [start] = components };
        for (int i = last; i >= 0; i--)
        {
            var node = nodes[i];
            if (!relevance.Remove(node.Output, out var r)) continue;
            Carry(node, r, x, fromImage, relevance, kernels, method);
        }
        if (!relevance.TryGetValue(x, out var atInput))
            throw new NotSupportedException($"{method}: the components did not reach the input from layer '{layer}'");
        return atInput;
    }

    /// <summary>Adds <paramref name="values"/> to what <paramref name="tensor"/> has received so far.</summary>
    private static void Add(Dictionary<Tensor, float[]> relevance, Tensor tensor, float[] values)
    {
        if (!relevance.TryGetValue(tensor, out var sum)) relevance[tensor] = values;
        else for (int i = 0; i < sum.Length; i++) sum[i] += values[i];
    }

    /// <summary>One operation's step: R at its output (<paramref name="r"/>) to its data inputs.</summary>
    private static void Carry(Node node, float[] r, Tensor image, HashSet<Tensor> fromImage, Dictionary<Tensor, float[]> relevance, IKernels kernels, string method)
    {
        switch (node)
        {
            case Conv2dNode conv:
                Add(relevance, conv.Input, ReferenceEquals(conv.Input, image)
                    ? BoundedConvolution(conv.Input.ToArray(), conv.Weight.ToArray(), r, conv.Geometry, kernels)
                    : ContributingConvolution(conv.Input.ToArray(), conv.Weight.ToArray(), r, conv.Geometry, kernels));
                return;
            case MaxPool2dNode pool:
                Add(relevance, pool.Input, MaxPool(pool.Input.ToArray(), r, pool.Geometry));
                return;
            case AvgPool2dNode pool:
                Add(relevance, pool.Input, AveragePool(pool.Input.ToArray(), r, pool.Geometry));
                return;
            case GlobalAvgPoolNode pool:
                {
                    var s = pool.Input.Shape;
                    Add(relevance, pool.Input, AveragePool(pool.Input.ToArray(), r, new Pool2dGeometry(s[0], s[1], s[2], s[3], s[2], s[3], 1, 1)));
                    return;
                }
            case ConcatNode concat:
                Split(concat, r, relevance);
                return;
            case BinaryNode binary:
                Binary(binary, r, fromImage, relevance, method);
                return;
        }
        if (node.Kind is "Relu" or "BatchNorm" or "Dropout" or "Reshape")
        {
            // R passes unchanged (the authors' ReLU and batch-norm steps; a reshape keeps the order); the data input is the first.
            Add(relevance, node.Inputs[0], r);
            return;
        }
        throw new NotSupportedException($"{method}: cannot carry the components through the operation {node.Kind} (it carries them through {string.Join(", ", Supported)})");
    }

    /// <summary>
    /// R_i = Σ_j (x_i w_ij)⁺ R_j / z_j with z_j = Σ_i (x_i w_ij)⁺: as x⁺ ⊙ convᵀ(w⁺, s) + x⁻ ⊙ convᵀ(w⁻, s),
    /// s = R / (conv(x⁺, w⁺) + conv(x⁻, w⁻)), on the backend's convolutions (the bias is left out).
    /// </summary>
    private static float[] ContributingConvolution(float[] x, float[] w, float[] r, Conv2dGeometry g, IKernels kernels)
    {
        var (xPlus, xMinus) = (Map(x, v => MathF.Max(v, 0f)), Map(x, v => MathF.Min(v, 0f)));
        var (wPlus, wMinus) = (Map(w, v => MathF.Max(v, 0f)), Map(w, v => MathF.Min(v, 0f)));
        var z = Convolve(kernels, xPlus, wPlus, g);
        var zMinus = Convolve(kernels, xMinus, wMinus, g);
        for (int j = 0; j < z.Length; j++) z[j] += zMinus[j];
        var s = Divide(r, z);
        var fromPlus = Transposed(kernels, s, wPlus, g);
        var fromMinus = Transposed(kernels, s, wMinus, g);
        var result = new float[x.Length];
        for (int i = 0; i < x.Length; i++) result[i] = xPlus[i] * fromPlus[i] + xMinus[i] * fromMinus[i];
        return result;
    }

    /// <summary>
    /// The z^B rule at the image: R_i = Σ_j (x_i w_ij − l w⁺_ij − h w⁻_ij) R_j / z_j, z_j the sum of those terms, with
    /// l and h the least and greatest value of each image (over its channels and pixels). Since w = w⁺ + w⁻ each term is
    /// (x_i − l) w⁺_ij + (x_i − h) w⁻_ij, a sum of two non-negative parts, which is how it is computed (no cancellation
    /// between large sums): z = conv(x − l, w⁺) + conv(x − h, w⁻), R = (x − l) ⊙ convᵀ(w⁺, s) + (x − h) ⊙ convᵀ(w⁻, s),
    /// s = R / z; the padding stays zero in x − l and x − h, as l and h are only inside the image.
    /// </summary>
    private static float[] BoundedConvolution(float[] x, float[] w, float[] r, Conv2dGeometry g, IKernels kernels)
    {
        int size = g.InputChannels * g.InputHeight * g.InputWidth;
        var aboveLow = new float[x.Length];
        var belowHigh = new float[x.Length];
        for (int n = 0; n < g.Batch; n++)
        {
            var image = x.AsSpan(n * size, size);
            float min = float.MaxValue, max = float.MinValue;
            foreach (var v in image) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
            for (int i = n * size; i < (n + 1) * size; i++) (aboveLow[i], belowHigh[i]) = (x[i] - min, x[i] - max);
        }
        var (wPlus, wMinus) = (Map(w, v => MathF.Max(v, 0f)), Map(w, v => MathF.Min(v, 0f)));
        var z = Convolve(kernels, aboveLow, wPlus, g);
        var zHigh = Convolve(kernels, belowHigh, wMinus, g);
        for (int j = 0; j < z.Length; j++) z[j] += zHigh[j];
        var s = Divide(r, z);
        var fromLow = Transposed(kernels, s, wPlus, g);
        var fromHigh = Transposed(kernels, s, wMinus, g);
        var result = new float[x.Length];
        for (int i = 0; i < x.Length; i++) result[i] = aboveLow[i] * fromLow[i] + belowHigh[i] * fromHigh[i];
        return result;
    }

    /// <summary>Each window's R to the input cell of its maximum, in proportion x⁺/max(x⁺) (all of it when the maximum is positive, none otherwise).</summary>
    private static float[] MaxPool(float[] x, float[] r, Pool2dGeometry g)
    {
        var result = new float[x.Length];
        int inPlane = g.InputHeight * g.InputWidth, outPlane = g.OutputHeight * g.OutputWidth;
        for (int plane = 0; plane < g.Batch * g.Channels; plane++)
            for (int oy = 0; oy < g.OutputHeight; oy++)
                for (int ox = 0; ox < g.OutputWidth; ox++)
                {
                    int best = -1;
                    float max = 0f;
                    foreach (int i in Window(g, oy, ox))
                        if (x[plane * inPlane + i] > max) (best, max) = (i, x[plane * inPlane + i]);
                    if (best >= 0) result[plane * inPlane + best] += r[plane * outPlane + oy * g.OutputWidth + ox];
                }
        return result;
    }

    /// <summary>Each window's R to its inputs in proportion to x⁺ (the divisor of the mean cancels).</summary>
    private static float[] AveragePool(float[] x, float[] r, Pool2dGeometry g)
    {
        var result = new float[x.Length];
        int inPlane = g.InputHeight * g.InputWidth, outPlane = g.OutputHeight * g.OutputWidth;
        for (int plane = 0; plane < g.Batch * g.Channels; plane++)
            for (int oy = 0; oy < g.OutputHeight; oy++)
                for (int ox = 0; ox < g.OutputWidth; ox++)
                {
                    double total = 0;
                    foreach (int i in Window(g, oy, ox)) total += MathF.Max(x[plane * inPlane + i], 0f);
                    if (total == 0) continue;
                    float share = (float)(r[plane * outPlane + oy * g.OutputWidth + ox] / total);
                    foreach (int i in Window(g, oy, ox)) result[plane * inPlane + i] += MathF.Max(x[plane * inPlane + i], 0f) * share;
                }
        return result;
    }

    /// <summary>The input cells (y·W + x) of output (oy, ox)'s window, padding left out.</summary>
    private static IEnumerable<int> Window(Pool2dGeometry g, int oy, int ox)
    {
        for (int ky = 0; ky < g.KernelHeight; ky++)
        {
            int iy = oy * g.StrideHeight - g.PadTop + ky * g.DilationHeight;
            if (iy < 0 || iy >= g.InputHeight) continue;
            for (int kx = 0; kx < g.KernelWidth; kx++)
            {
                int ix = ox * g.StrideWidth - g.PadLeft + kx * g.DilationWidth;
                if (ix >= 0 && ix < g.InputWidth) yield return iy * g.InputWidth + ix;
            }
        }
    }

    /// <summary>
    /// x ∘ c with a constant c (a bias, a scale): R to x unchanged; a + b of two feature maps of the output's shape:
    /// R_a = a⁺ R / (a⁺ + b⁺), R_b = b⁺ R / (a⁺ + b⁺).
    /// </summary>
    private static void Binary(BinaryNode node, float[] r, HashSet<Tensor> fromImage, Dictionary<Tensor, float[]> relevance, string method)
    {
        var (a, b) = (node.Inputs[0], node.Inputs[1]);
        bool aData = fromImage.Contains(a), bData = fromImage.Contains(b);
        if (aData != bData)
        {
            var data = aData ? a : b;
            if (data.Shape != node.Output.Shape)
                throw new NotSupportedException($"{method}: cannot carry the components through a {node.Kind} that broadcasts the feature map {data.Shape} to {node.Output.Shape}");
            Add(relevance, data, r);
            return;
        }
        if (node.Kind != "Add" || a.Shape != node.Output.Shape || b.Shape != node.Output.Shape)
            throw new NotSupportedException($"{method}: cannot carry the components through a {node.Kind} of two feature maps {a.Shape} and {b.Shape} (only their sum)");
        var (va, vb) = (a.ToArray(), b.ToArray());
        var (ra, rb) = (new float[r.Length], new float[r.Length]);
        for (int i = 0; i < r.Length; i++)
        {
            float pa = MathF.Max(va[i], 0f), pb = MathF.Max(vb[i], 0f), z = pa + pb;
            if (z == 0f) continue;
            (ra[i], rb[i]) = (pa * r[i] / z, pb * r[i] / z);
        }
        Add(relevance, a, ra);
        Add(relevance, b, rb);
    }

    /// <summary>A concatenation's R cut back into each input's slice along its axis.</summary>
    private static void Split(ConcatNode concat, float[] r, Dictionary<Tensor, float[]> relevance)
    {
        var shape = concat.Output.Shape;
        int outer = shape.Product(0, concat.Axis), inner = shape.Product(concat.Axis + 1, shape.Rank), total = shape[concat.Axis];
        int offset = 0;
        foreach (var input in concat.Inputs)
        {
            int extent = input.Shape[concat.Axis];
            var part = new float[input.Size];
            for (int o = 0; o < outer; o++)
                r.AsSpan((o * total + offset) * inner, extent * inner).CopyTo(part.AsSpan(o * extent * inner, extent * inner));
            Add(relevance, input, part);
            offset += extent;
        }
    }

    private static float[] Map(float[] values, Func<float, float> f)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = f(values[i]);
        return result;
    }

    /// <summary>a / b, and 0 where b = 0.</summary>
    private static float[] Divide(float[] a, float[] b)
    {
        var result = new float[a.Length];
        for (int i = 0; i < a.Length; i++) result[i] = b[i] == 0f ? 0f : a[i] / b[i];
        return result;
    }

    /// <summary>conv(x, w) without a bias, on the backend.</summary>
    private static float[] Convolve(IKernels kernels, float[] x, float[] w, Conv2dGeometry g)
    {
        var output = kernels.Allocate(g.OutputShape);
        kernels.Conv2dForward(output, Staged(kernels, x, g.InputShape), Staged(kernels, w, g.WeightShape), null, g);
        return output.ToArray();
    }

    /// <summary>convᵀ(w, s): the input-side sum Σ_j w_ij s_j, the convolution's backward to its input.</summary>
    private static float[] Transposed(IKernels kernels, float[] s, float[] w, Conv2dGeometry g)
    {
        var result = kernels.Allocate(g.InputShape);
        kernels.Conv2dBackwardInput(result, Staged(kernels, s, g.OutputShape), Staged(kernels, w, g.WeightShape), g, accumulate: false);
        return result.ToArray();
    }

    private static Tensor Staged(IKernels kernels, float[] values, Shape shape)
    {
        var tensor = kernels.Allocate(shape);
        tensor.Buffer.CopyFrom(values);
        return tensor;
    }
}
