using NanoCam.Explain.Metrics;
using NanoCam.Nn.Models;

namespace NanoCam.Explain.Tests.Metrics;

/// <summary>The cascading randomization: its order, what each step holds, and ρ on a "map" read from the weights.</summary>
public sealed class ModelRandomizationTests
{
    private static GapCnn Trained() => TestNets.TwoConv(1, 2, 3, 2, seed: 5);

    private static GapCnn Fresh() => TestNets.TwoConv(1, 2, 3, 2, seed: 99);

    private static float[] Values(GapCnn model, string name) => model.NamedParameters().Single(p => p.Name == name).Parameter.Value.ToArray();

    [Fact]
    public void CascadeOrder_IsTheLayersWithParameters_LastFirst() =>
        Assert.Equal(["fc", "features.2", "features.0"], ModelRandomization.CascadeOrder(Trained()).Select(m => m.Path));

    [Fact]
    public void Cascade_ReinitialisesTheLayersTopDown_OnACopy()
    {
        var trained = Trained();
        var before = trained.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Value.ToArray());
        var fresh = Fresh();
        var stepsSeen = new List<string[]>();
        // The "map" is the first convolution's 18 weights: it keeps its ranking (ρ = 1) until that layer is re-initialised.
        var original = Values(trained, "features.0.weight");
        var cascade = ModelRandomization.Cascade(trained, Fresh, copy =>
        {
            // Which layers hold re-initialised values now (equal to a fresh model's) rather than the trained ones.
            stepsSeen.Add([.. ModelRandomization.CascadeOrder(copy).Where(layer => layer.NamedParameters().All(p =>
                Values(fresh, layer.Path + "." + p.Name).SequenceEqual(p.Parameter.Value.ToArray())
                && !before[layer.Path + "." + p.Name].SequenceEqual(p.Parameter.Value.ToArray()))).Select(l => l.Path)]);
            return Values(copy, "features.0.weight");
        }, original, plane: 18);

        Assert.Equal([["fc"], ["fc", "features.2"], ["fc", "features.2", "features.0"]], stepsSeen);
        Assert.Equal(["fc", "features.2", "features.0"], cascade.Select(s => s.Layer));
        Assert.Equal(1, cascade[0].Mean, 12);
        Assert.Equal(1, cascade[1].Mean, 12);
        // Last step: ρ between the trained and the fresh weights, by the no-tie formula 1 − 6 Σd² / (n(n² − 1)).
        var a = Values(trained, "features.0.weight");
        var b = Values(fresh, "features.0.weight");
        double[] Rank(float[] v) => [.. v.Select(x => (double)v.Count(y => y < x) + 1)];
        var (ra, rb) = (Rank(a), Rank(b));
        double expected = 1 - 6 * ra.Zip(rb, (x, y) => (x - y) * (x - y)).Sum() / (18.0 * (18 * 18 - 1));
        Assert.Equal(expected, cascade[2].Mean, 10);
        Assert.True(Math.Abs(expected) < 0.9);
        // The trained model is untouched.
        foreach (var (name, parameter) in trained.NamedParameters()) Assert.Equal(before[name], parameter.Value.ToArray());
    }

    [Fact]
    public void Fails_WhenTheMeanAbsoluteRhoOverTheStepsExceedsOneHalf()
    {
        ModelRandomization.Step Step(double rho) => new("layer", [rho, rho]);
        Assert.True(ModelRandomization.Fails([Step(0.9), Step(0.7), Step(0.05)]));   // mean 0.55
        Assert.False(ModelRandomization.Fails([Step(0.9), Step(0.5), Step(0.05)]));  // mean 0.483…
        Assert.True(ModelRandomization.Fails([Step(-0.9), Step(-0.8), Step(0.1)]));  // |ρ|: an inverted map still keeps the ranking
        Assert.Equal(0.55, ModelRandomization.CascadeMean([Step(0.9), Step(0.7), Step(0.05)]), 12);
    }
}
