using NanoCam.Ops;

namespace NanoCam.Explain.Methods;

/// <summary>
/// Deconvnet (Zeiler &amp; Fergus 2014), as a backward rule: every ReLU passes back the positive part of the gradient
/// arriving from above, whatever its forward input was, dx = dy · [dy &gt; 0] (Guided Backprop adds [x &gt; 0]).
/// The attributions are the signed input gradients under that rule; the map is Σ_c |a_c|.
/// </summary>
public sealed class Deconvnet(int batchSize = 32) : InputAttribution
{
    public override string Name => "deconvnet";

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var (n, c, h, w) = (input.Shape[0], input.Shape[1], input.Shape[2], input.Shape[3]);
        var x = input.ToArray();
        var classes = ClassesOf(explainer, input, target);
        int size = c * h * w;
        var (gradients, _) = InputGradients(explainer, n, c, h, w, (i, image) => x.AsSpan(i * size, size).CopyTo(image), i => classes[i], batchSize,
            configure: tape => tape.OverrideBackward("Relu", ActivationNode.ReluRule(ReluBackwardRule.Deconvnet)));
        return new AttributionResult(gradients, n, c, h, w, classes);
    }
}
