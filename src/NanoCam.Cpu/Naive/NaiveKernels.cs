namespace NanoCam.Cpu.Naive;

/// <summary>
/// The reference backend: plain scalar loops over flat arrays, written to be read (and to be the oracle every faster
/// backend is tested against). One partial file per op family; each forward sits beside its backward.
/// </summary>
public sealed partial class NaiveKernels : IKernels
{
    public static readonly NaiveKernels Instance = new();

    public string Name => "naive";

    public Tensor Allocate(Shape shape) => Tensor.Zeros(shape);

    public void Fill(Tensor tensor, float value) => tensor.Span.Fill(value);

    public void Copy(Tensor destination, Tensor source)
    {
        Check.SameSize(destination, source, "copy");
        source.Span.CopyTo(destination.Span);
    }

    public void AddScaled(Tensor destination, Tensor source, float scale)
    {
        Check.SameSize(destination, source, "add-scaled");
        var d = destination.Span;
        var s = source.Span;
        for (int i = 0; i < d.Length; i++) d[i] += scale * s[i];
    }
}
