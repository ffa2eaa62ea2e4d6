namespace NanoCam.Explain.Methods;

/// <summary>
/// LayerCAM (Jiang et al. 2021, eq. 5–6): ŵ^kc_ij = ReLU(∂y^c/∂A^k_ij), map = ReLU(Σ_k ŵ^kc ⊙ A^k) — every position
/// keeps its own positive gradient, which makes the maps of shallow layers usable.
/// <see cref="ExplainFused"/> combines several layers (Sec. 3.3).
/// </summary>
public sealed class LayerCam : PerPositionCam
{
    public override string Name => "layercam";
    protected override float Term(float activation, float gradient) => MathF.Max(gradient, 0f) * activation;

    /// <summary>
    /// Fused LayerCAM: explains each of <paramref name="layers"/>, and combines their normalized maps, upsampled to
    /// the input, by the element-wise maximum, min–max normalized again (a flat fused map is zeros, with a warning).
    /// </summary>
    public static FusedCamResult ExplainFused(CamExplainer explainer, Tensor input, CamTarget target, IReadOnlyList<string> layers)
    {
        if (layers.Count == 0) throw new ArgumentException("layercam: fusion needs at least one layer");
        var method = new LayerCam();
        var perLayer = new List<CamResult>();
        var warnings = new List<string>();
        foreach (var layer in layers)
        {
            perLayer.Add(explainer.Explain(method, input, target, layer));
            warnings.AddRange(explainer.Warnings.Select(w => $"{layer}: {w}"));
        }
        int batch = perLayer[0].Batch, plane = perLayer[0].InputHeight * perLayer[0].InputWidth;
        var maximum = new float[batch * plane];
        Array.Fill(maximum, float.NegativeInfinity);
        foreach (var result in perLayer)
            for (int i = 0; i < maximum.Length; i++) maximum[i] = MathF.Max(maximum[i], result.Normalized[i]);
        var fused = new float[batch * plane];
        var flat = new bool[batch];
        for (int n = 0; n < batch; n++)
        {
            flat[n] = !MapOps.MinMaxNormalize(maximum.AsSpan(n * plane, plane), fused.AsSpan(n * plane, plane));
            if (flat[n]) warnings.Add($"layercam: the fused map of image {n} is flat (max = min); it is returned as zeros");
        }
        explainer.Warnings.Clear();
        explainer.Warnings.AddRange(warnings);
        return new FusedCamResult(perLayer, maximum, fused, perLayer[0].InputHeight, perLayer[0].InputWidth, flat);
    }
}

/// <summary>A multi-layer explanation: each layer's result, their element-wise maximum, and that maximum normalized.</summary>
public sealed record FusedCamResult(IReadOnlyList<CamResult> Layers, float[] Maximum, float[] Fused, int InputHeight, int InputWidth, bool[] FlatMaps)
{
    /// <summary>The fused map of image n, [H, W], in [0, 1].</summary>
    public ReadOnlySpan<float> FusedOf(int n) => Fused.AsSpan(n * InputHeight * InputWidth, InputHeight * InputWidth);
}
