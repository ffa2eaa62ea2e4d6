namespace NanoCam.Explain.Methods;

/// <summary>
/// Multi-layer fusion of any CAM method (LayerCAM, Jiang et al. 2021, Sec. 3.3): each layer's map M_l, upsampled to the
/// input (ReLU'd, unnormalized), is scaled to m_l = M_l / max M_l; the maps of the shallow layers — every layer but the
/// last, the layers listed shallow to deep — are rescaled by tanh(γ·m_l) with γ = 2 (which lifts the
/// weak values of shallow maps), the deepest is kept as m_l, and the fused map is their element-wise maximum, min–max
/// normalized per image. A layer whose map has no positive value contributes zeros.
/// </summary>
public static class LayerFusion
{
    /// <summary>γ of the tanh rescaling of the shallow layers' maps (the paper's value).</summary>
    public const float Gamma = 2f;

    /// <summary>
    /// Explains <paramref name="input"/> with <paramref name="method"/> at each of <paramref name="layers"/> (shallow to
    /// deep) and fuses the maps; every layer explains the classes the first one found. The explainer's warnings name the
    /// layer they come from.
    /// </summary>
    public static FusedCamResult Explain(CamExplainer explainer, CamMethod method, Tensor input, CamTarget target, IReadOnlyList<string> layers,
        ExplainOptions? options = null)
    {
        if (layers.Count == 0) throw new ArgumentException($"{method.Name}: fusion needs at least one layer");
        var perLayer = new List<CamResult>();
        var warnings = new List<string>();
        foreach (var layer in layers)
        {
            var result = explainer.Explain(method, input, target, layer, options);
            perLayer.Add(result);
            warnings.AddRange(explainer.Warnings.Select(w => $"{layer}: {w}"));
            if (perLayer.Count == 1 && target is RankTarget) target = new ImageClassTarget(result.Capture.TargetClasses);
        }
        int batch = perLayer[0].Batch, plane = perLayer[0].InputHeight * perLayer[0].InputWidth;
        var maximum = new float[batch * plane];
        Array.Fill(maximum, float.NegativeInfinity);
        var scaled = new float[plane];
        for (int l = 0; l < perLayer.Count; l++)
            for (int n = 0; n < batch; n++)
            {
                Rescale(perLayer[l].UpsampledOf(n), shallow: l < perLayer.Count - 1, scaled);
                var into = maximum.AsSpan(n * plane, plane);
                for (int p = 0; p < plane; p++) into[p] = MathF.Max(into[p], scaled[p]);
            }
        var fused = new float[batch * plane];
        var flat = new bool[batch];
        for (int n = 0; n < batch; n++)
        {
            flat[n] = !MapOps.MinMaxNormalize(maximum.AsSpan(n * plane, plane), fused.AsSpan(n * plane, plane));
            if (flat[n]) warnings.Add($"{method.Name}: the fused map of image {n} is flat (max = min); it is returned as zeros");
        }
        explainer.Warnings.Clear();
        explainer.Warnings.AddRange(warnings);
        return new FusedCamResult(perLayer, maximum, fused, perLayer[0].InputHeight, perLayer[0].InputWidth, flat);
    }

    /// <summary>m = map / max map (zeros when the map has no positive value); a shallow layer's m becomes tanh(γ·m) (LayerCAM Sec. 3.3).</summary>
    public static void Rescale(ReadOnlySpan<float> map, bool shallow, Span<float> scaled)
    {
        float max = float.NegativeInfinity;
        foreach (var v in map) max = MathF.Max(max, v);
        if (!(max > 0))
        {
            scaled.Clear();
            return;
        }
        for (int p = 0; p < map.Length; p++)
        {
            float m = map[p] / max;
            scaled[p] = shallow ? MathF.Tanh(Gamma * m) : m;
        }
    }
}

/// <summary>
/// A multi-layer explanation: each layer's result, the element-wise maximum of their rescaled maps
/// (<see cref="LayerFusion.Rescale"/>), and that maximum min–max normalized.
/// </summary>
public sealed record FusedCamResult(IReadOnlyList<CamResult> Layers, float[] Maximum, float[] Fused, int InputHeight, int InputWidth, bool[] FlatMaps)
{
    /// <summary>The fused map of image n, [H, W], in [0, 1].</summary>
    public ReadOnlySpan<float> FusedOf(int n) => Fused.AsSpan(n * InputHeight * InputWidth, InputHeight * InputWidth);

    /// <summary>The element-wise maximum of image n before normalization, [H, W].</summary>
    public ReadOnlySpan<float> MaximumOf(int n) => Maximum.AsSpan(n * InputHeight * InputWidth, InputHeight * InputWidth);
}
