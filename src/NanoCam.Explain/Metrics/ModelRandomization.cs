using NanoCam.Nn.Modules;

namespace NanoCam.Explain.Metrics;

/// <summary>
/// The model-parameter randomization test (Adebayo et al. 2018, cascading randomization): on a copy of the
/// trained model, the layers that hold parameters are re-initialised from the top down — the last layer first, then
/// the one before it, and so on, each step keeping the earlier re-initialisations — and at each step every image is
/// explained again, for the class its original map explained. Each step reports Spearman's ρ between the original
/// and the randomised map per image. A method whose maps depend on what the model learned loses the correlation as
/// the layers go; one whose maps survive it fails the test: they show the input, not what the model learned. We
/// call a method failing when the mean over the cascade's steps of |mean ρ| (the area under Adebayo et al.'s cascade
/// curve, per step) exceeds <see cref="FailThreshold"/>: the last step alone re-initialises the first convolution too,
/// which on a small network decorrelates Guided Backprop's maps as well (ρ = 0.05 on the shipped shapes network),
/// whereas its failure is to stay unchanged while most of the network above the input is random. Re-initialised means drawn by the
/// architecture's own initialisers (a freshly built model of the same architecture; batch norm back to γ = 1, β = 0,
/// running mean 0 and variance 1). The trained model is never changed.
/// </summary>
public static class ModelRandomization
{
    /// <summary>The mean over the cascade of |mean ρ| above which a method fails.</summary>
    public const double FailThreshold = 0.5;

    /// <summary>One step of the cascade: every layer from the top down to <paramref name="Layer"/> re-initialised, and ρ per image.</summary>
    public sealed record Step(string Layer, double[] Correlations)
    {
        /// <summary>ρ averaged over the images.</summary>
        public double Mean => Correlations.Average();
    }

    /// <summary>(1/L) Σ_steps |mean ρ|: how much of the original ranking the maps keep over the cascade, 0 to 1.</summary>
    public static double CascadeMean(IReadOnlyList<Step> cascade) => cascade.Average(step => Math.Abs(step.Mean));

    /// <summary>Whether <see cref="CascadeMean"/> exceeds <see cref="FailThreshold"/>.</summary>
    public static bool Fails(IReadOnlyList<Step> cascade) => CascadeMean(cascade) > FailThreshold;

    /// <summary>The modules that hold parameters themselves (convolutions, batch norms, linear layers), last first.</summary>
    public static IReadOnlyList<Module> CascadeOrder(Module model) =>
        [.. model.Modules().Where(m => m.Children.Count == 0 && m.NamedParameters().Any()).Reverse()];

    /// <summary>
    /// Runs the cascade. <paramref name="freshModel"/> builds an untrained model of the trained one's architecture (called
    /// twice: the working copy, which first takes the trained values, and the source of the re-initialised values);
    /// <paramref name="explain"/> returns the maps [N, H, W] of the N images for a model; <paramref name="originalMaps"/>
    /// are the trained model's maps of the same images.
    /// </summary>
    public static IReadOnlyList<Step> Cascade<TModel>(TModel trained, Func<TModel> freshModel, Func<TModel, float[]> explain, float[] originalMaps, int plane)
        where TModel : Module
    {
        if (plane < 2 || originalMaps.Length % plane != 0) throw new ArgumentException($"the maps ({originalMaps.Length} values) are not whole maps of {plane} pixels");
        int images = originalMaps.Length / plane;
        var copy = freshModel();
        var reinitialised = freshModel();
        CopyParameters(trained, copy, "");
        var steps = new List<Step>();
        foreach (var layer in CascadeOrder(copy))
        {
            CopyParameters(reinitialised, copy, layer.Path);
            var maps = explain(copy);
            if (maps.Length != originalMaps.Length) throw new InvalidOperationException($"the randomised model gave {maps.Length} map values, not {originalMaps.Length}");
            var correlations = new double[images];
            for (int n = 0; n < images; n++)
                correlations[n] = SpearmanCorrelation.Of(originalMaps.AsSpan(n * plane, plane), maps.AsSpan(n * plane, plane));
            steps.Add(new Step(layer.Path, correlations));
        }
        return steps;
    }

    /// <summary>Copies every parameter of <paramref name="source"/> under the module path <paramref name="path"/> ("": all) into <paramref name="target"/>.</summary>
    public static void CopyParameters(Module source, Module target, string path)
    {
        var targets = target.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var (name, parameter) in source.NamedParameters())
        {
            if (path.Length > 0 && !name.StartsWith(path + ".", StringComparison.Ordinal)) continue;
            if (!targets.TryGetValue(name, out var into) || into.Value.Shape != parameter.Value.Shape)
                throw new ArgumentException($"the models differ at parameter '{name}'");
            into.Value.Buffer.CopyFrom(parameter.Value.ToArray());
        }
    }
}
