namespace NanoCam.Nn.Init;

/// <summary>Weight initializations drawn from a seeded generator (same seed → same weights).</summary>
public static class Initializers
{
    /// <summary>Kaiming/He normal (He et al. 2015, eq. 10): w ~ N(0, 2/fan_in), for layers followed by ReLU.</summary>
    public static void KaimingNormal(Tensor weight, int fanIn, Random rng)
    {
        float std = MathF.Sqrt(2f / fanIn);
        var data = weight.Span;
        for (int i = 0; i < data.Length; i++) data[i] = std * Gaussian(rng);
    }

    /// <summary>Xavier/Glorot uniform (Glorot &amp; Bengio 2010, eq. 16): w ~ U(−a, a), a = √(6/(fan_in + fan_out)).</summary>
    public static void XavierUniform(Tensor weight, int fanIn, int fanOut, Random rng)
    {
        float a = MathF.Sqrt(6f / (fanIn + fanOut));
        var data = weight.Span;
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) * a;
    }

    /// <summary>A standard normal sample (Box–Muller).</summary>
    public static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
