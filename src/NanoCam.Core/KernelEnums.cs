namespace NanoCam;

/// <summary>Element-wise activations: y = f(x).</summary>
public enum Activation
{
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>x if x &gt; 0 else alpha·x.</summary>
    LeakyRelu,
    /// <summary>1 / (1 + e^−x).</summary>
    Sigmoid,
    /// <summary>min(max(x, lo), hi): ReLU6 is Clip(0, 6).</summary>
    Clip,
    /// <summary>x.</summary>
    Identity,
}

/// <summary>Backward rules for ReLU: the ordinary one and the ones used by visual explanations.</summary>
public enum ReluBackwardRule
{
    /// <summary>dx = dy · [x &gt; 0].</summary>
    Standard,
    /// <summary>Guided Backprop (Springenberg et al. 2015): dx = dy · [x &gt; 0] · [dy &gt; 0].</summary>
    Guided,
    /// <summary>Deconvnet (Zeiler &amp; Fergus 2014): dx = dy · [dy &gt; 0].</summary>
    Deconvnet,
}

/// <summary>Element-wise binary operations with broadcasting.</summary>
public enum BinaryOp { Add, Sub, Mul, Div }

/// <summary>Parameters of one activation: alpha for leaky ReLU, [Low, High] for clip.</summary>
public readonly record struct ActivationParams(float Alpha = 0.01f, float Low = float.NegativeInfinity, float High = float.PositiveInfinity);

/// <summary>How a reduction combines the elements along its axis.</summary>
public enum ReduceKind
{
    /// <summary>scale · Σ_j x_j (0 over an empty axis).</summary>
    Sum,
    /// <summary>max_j x_j (−∞ over an empty axis; NaN if any x_j is NaN).</summary>
    Max,
    /// <summary>min_j x_j (+∞ over an empty axis; NaN if any x_j is NaN).</summary>
    Min,
}
