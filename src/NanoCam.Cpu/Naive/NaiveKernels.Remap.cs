namespace NanoCam.Cpu.Naive;

public sealed partial class NaiveKernels
{
    /// <summary>y_i = x[offset(i)], or the fill where offset(i) = −1 (see <see cref="RemapPlan.InputOffset"/>).</summary>
    public void RemapForward(Tensor output, Tensor input, RemapPlan plan)
    {
        CheckRemap(output, input, plan, "remap");
        var y = output.Span;
        var x = input.Span;
        for (int i = 0; i < y.Length; i++)
        {
            int offset = plan.InputOffset(i);
            y[i] = offset < 0 ? plan.Fill : x[offset];
        }
    }

    /// <summary>dx[offset(i)] += dy_i: the adjoint of the gather, so outputs that read one input element add up there.</summary>
    public void RemapBackward(Tensor dInput, Tensor dOutput, RemapPlan plan)
    {
        CheckRemap(dOutput, dInput, plan, "remap backward");
        var dy = dOutput.Span;
        var dx = dInput.Span;
        for (int i = 0; i < dy.Length; i++)
        {
            int offset = plan.InputOffset(i);
            if (offset >= 0) dx[offset] += dy[i];
        }
    }

    internal static void CheckRemap(Tensor output, Tensor input, RemapPlan plan, string op)
    {
        if (output.Size != plan.OutputSize) throw new ArgumentException($"{op}: output {output.Shape} holds {output.Size} elements, the plan writes {plan.OutputSize}");
        if (input.Size < plan.MinimumInputSize) throw new ArgumentException($"{op}: input {input.Shape} holds {input.Size} elements, the plan reads up to {plan.MinimumInputSize}");
    }
}
