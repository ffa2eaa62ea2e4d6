namespace NanoCam.Explain.Relevance;

/// <summary>
/// The rule the linear layers (Conv2d, MatMul with its bias) propagate relevance with (Montavon et al. 2019, "Layer-wise
/// Relevance Propagation: An Overview", Sec. 10.2): LRP-0 (eq. 10.1), LRP-ε (eq. 10.2), LRP-γ (eq. 10.3), or the composite
/// of Sec. 10.3 — z^B at the layer that reads the image, γ at the other convolutions, ε at the dense layers.
/// </summary>
public enum LrpRule
{
    Composite,
    Epsilon,
    Gamma,
    Zero,
}

/// <summary>
/// LRP's parameters: the rule; ε, a fraction of each image's root-mean-square pre-activation z at the layer (the stabilizer
/// ε·RMS(z) of Montavon's LRP tutorial); γ, the weight of the positive part; and the input's bounds per channel for z^B
/// (null: each image's own minimum and maximum per channel).
/// </summary>
public sealed record LrpSettings(LrpRule Rule = LrpRule.Composite, float Epsilon = 0.25f, float Gamma = 0.25f, float[]? Low = null, float[]? High = null)
{
    /// <summary>The rules by name, as <c>--lrp-rule</c> takes them.</summary>
    public static IReadOnlyList<string> RuleNames { get; } = ["composite", "epsilon", "gamma", "zero"];

    /// <summary>The rule named <paramref name="name"/>; an unknown name is refused with the list of names.</summary>
    public static LrpRule ParseRule(string name) => name switch
    {
        "composite" => LrpRule.Composite,
        "epsilon" => LrpRule.Epsilon,
        "gamma" => LrpRule.Gamma,
        "zero" => LrpRule.Zero,
        _ => throw new ArgumentException($"unknown LRP rule '{name}'; valid rules: {string.Join(", ", RuleNames)}"),
    };
}
