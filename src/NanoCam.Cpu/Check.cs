namespace NanoCam.Cpu;

/// <summary>Shape checks shared by the CPU kernels; each message names the op and both shapes.</summary>
internal static class Check
{
    public static void SameSize(Tensor a, Tensor b, string op)
    {
        if (a.Size != b.Size) throw new ArgumentException($"{op}: {a.Shape} and {b.Shape} differ in size");
    }

    public static void Shape(Tensor t, Shape expected, string op, string what)
    {
        if (t.Shape.Size != expected.Size) throw new ArgumentException($"{op}: {what} has shape {t.Shape}, expected {expected}");
    }
}
