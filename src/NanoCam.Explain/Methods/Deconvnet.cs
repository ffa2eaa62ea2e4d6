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
        var (_, gradients, classes) = GradientsAtTheImages(explainer, input, target, batchSize,
            configure: tape => tape.OverrideBackward("Relu", ActivationNode.ReluRule(ReluBackwardRule.Deconvnet)));
        return ResultOf(input, gradients, classes);
    }
}
