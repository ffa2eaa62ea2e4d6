namespace NanoCam.Onnx;

/// <summary>
/// The classifier head that Class Activation Mapping needs (Zhou et al. 2016): a feature layer A (NCHW), and class
/// weights w [classes, channels] with y^c = Σ_k w[c,k] · GAP(A^k) (+ bias), so that M_c(x,y) = Σ_k w[c,k] · A^k(x,y) (CAM eq. 2).
/// </summary>
/// <param name="FeatureLayer">ONNX name of the tensor A (published on the tape by <see cref="OnnxModel.Run(NanoCam.Autodiff.Tape, Tensor)"/>).</param>
/// <param name="Weights">Row-major [Classes, Channels].</param>
/// <param name="Bias">Per-class bias, or null.</param>
/// <param name="Kind">"gap-linear" (GAP → Gemm/MatMul) or "conv1x1-gap" (1×1 conv classifier → GAP, as SqueezeNet's conv10); "gmp-linear" or "conv1x1-gmp" with global max pooling.</param>
/// <param name="ClassifierNode">Name of the Gemm/MatMul/Conv node that holds the weights.</param>
/// <param name="Note">Caveats, e.g. a ReLU between the classifier and the pooling (then CAM is exact only where scores are positive).</param>
public sealed record OnnxCamHead(string FeatureLayer, float[] Weights, int Classes, int Channels, float[]? Bias, string Kind, string ClassifierNode, string? Note)
{
    internal static OnnxCamHead? Find(OnnxModel model, out string reason)
    {
        var pools = model.Nodes.Where(n => n.OpType == "GlobalAveragePool").ToList();
        // Global max pooling (the paper's GoogLeNet-GMP baseline, GAP surgery's --pool gmp) only where no average pooling is:
        // y^c = Σ_k w[c,k] · max_xy A^k(x,y) + b_c, and CAM keeps M_c = Σ_k w[c,k] · A^k (docs/cam-math.md §22).
        if (pools.Count == 0) pools = model.Nodes.Where(n => n.OpType == "GlobalMaxPool").ToList();
        if (pools.Count == 0)
        {
            reason = "the graph has no GlobalAveragePool (or GlobalMaxPool) node, so it has no CAM head";
            return null;
        }
        var reasons = new List<string>();
        // The last pooling is the one next to the output.
        for (int i = pools.Count - 1; i >= 0; i--)
        {
            string r2 = "";
            var head = AfterPool(model, pools[i], out var r1) ?? BeforePool(model, pools[i], out r2);
            if (head is not null)
            {
                reason = "";
                return pools[i].OpType == "GlobalMaxPool"
                    ? head with
                    {
                        Kind = head.Kind.Replace("gap", "gmp"),
                        Note = $"global max pooling ({pools[i].Name}): the score reads each map's maximum, y^c = Σ_k w[c,k]·max A^k + b_c; "
                            + "M_c = Σ_k w[c,k]·A^k is the paper's CAM on GoogLeNet-GMP, whose peaks, not its mean, carry the score" + (head.Note is null ? "" : "; " + head.Note),
                    }
                    : head;
            }
            reasons.Add($"{pools[i].Name}: {r1}; {r2}");
        }
        reason = string.Join(" | ", reasons);
        return null;
    }

    /// <summary>(a) GAP → [Flatten/Reshape/Squeeze] → Gemm (or MatMul [+ Add]) with constant weights.</summary>
    private static OnnxCamHead? AfterPool(OnnxModel model, OnnxNode pool, out string reason)
    {
        var current = pool.Outputs[0];
        var next = SingleConsumer(model, current);
        while (next is not null && next.OpType is "Flatten" or "Reshape" or "Squeeze" or "Identity" or "Dropout")
        {
            current = next.Outputs[0];
            next = SingleConsumer(model, current);
        }
        if (next is null || next.OpType is not ("Gemm" or "MatMul"))
        {
            reason = $"no Gemm/MatMul follows the pooling (next: {next?.OpType ?? "none"})";
            return null;
        }
        if (next.Inputs[0] != current || model.Initializer(next.Inputs[1]) is not { IsFloat: true } b || b.Dims.Length != 2)
        {
            reason = $"{next.Name} does not multiply the pooled features by a constant 2-D weight";
            return null;
        }
        bool transB = next.OpType == "Gemm" && next.Int("transB", 0) != 0;
        if (next.OpType == "Gemm" && next.Int("transA", 0) != 0)
        {
            reason = $"{next.Name} transposes the features (transA=1)";
            return null;
        }
        float alpha = next.OpType == "Gemm" ? next.Float("alpha", 1f) : 1f;
        int classes = transB ? b.Dims[0] : b.Dims[1], channels = transB ? b.Dims[1] : b.Dims[0];
        var source = b.ToFloatArray();
        var weights = new float[classes * channels];
        for (int c = 0; c < classes; c++)
            for (int k = 0; k < channels; k++)
                weights[c * channels + k] = alpha * (transB ? source[c * channels + k] : source[k * classes + c]);

        float[]? bias = null;
        if (next.OpType == "Gemm" && next.Inputs.Count > 2 && next.Inputs[2].Length > 0 && model.Initializer(next.Inputs[2]) is { IsFloat: true } cv)
            bias = PerClass(cv.ToFloatArray(), classes, next.Float("beta", 1f));
        else if (next.OpType == "MatMul" && SingleConsumer(model, next.Outputs[0]) is { OpType: "Add" } add)
        {
            var other = add.Inputs[0] == next.Outputs[0] ? add.Inputs[1] : add.Inputs[0];
            if (model.Initializer(other) is { IsFloat: true } av) bias = PerClass(av.ToFloatArray(), classes, 1f);
        }
        reason = "";
        return new OnnxCamHead(pool.Inputs[0], weights, classes, channels, bias, "gap-linear", next.Name, null);
    }

    /// <summary>(b) 1×1 Conv classifier with constant weight [classes, channels, 1, 1] → [Relu] → GAP.</summary>
    private static OnnxCamHead? BeforePool(OnnxModel model, OnnxNode pool, out string reason)
    {
        var producer = model.Producer(pool.Inputs[0]);
        string? note = null;
        if (producer?.OpType == "Relu")
        {
            note = $"a ReLU ({producer.Name}) sits between the classifier and the pooling: the score is GAP(ReLU(M_c + b_c)), so M_c is exact only where it is positive";
            producer = model.Producer(producer.Inputs[0]);
        }
        if (producer is null || producer.OpType != "Conv")
        {
            reason = $"the pooling's input is not computed by a 1×1 Conv (producer: {producer?.OpType ?? "graph input"})";
            return null;
        }
        if (model.Initializer(producer.Inputs[1]) is not { IsFloat: true } w || w.Dims.Length != 4 || w.Dims[2] != 1 || w.Dims[3] != 1
            || producer.Int("group", 1) != 1 || (producer.Ints("strides")?.Any(s => s != 1) ?? false))
        {
            reason = $"{producer.Name} is not a 1×1, stride-1, single-group convolution with constant weights";
            return null;
        }
        float[]? bias = producer.Inputs.Count > 2 && producer.Inputs[2].Length > 0 && model.Initializer(producer.Inputs[2]) is { IsFloat: true } bv
            ? bv.ToFloatArray() : null;
        // At inference Dropout and Identity pass their input through, so the feature layer is the tensor before them.
        var feature = producer.Inputs[0];
        while (model.Producer(feature) is { OpType: "Dropout" or "Identity" } passThrough) feature = passThrough.Inputs[0];
        reason = "";
        return new OnnxCamHead(feature, w.ToFloatArray(), w.Dims[0], w.Dims[1], bias, "conv1x1-gap", producer.Name, note);
    }

    private static OnnxNode? SingleConsumer(OnnxModel model, string tensor)
    {
        var consumers = model.Consumers(tensor).Take(2).ToList();
        return consumers.Count == 1 ? consumers[0] : null;
    }

    private static float[]? PerClass(float[] values, int classes, float scale) =>
        values.Length == classes ? values.Select(v => v * scale).ToArray()
        : values.Length == 1 ? Enumerable.Repeat(values[0] * scale, classes).ToArray()
        : null;
}
