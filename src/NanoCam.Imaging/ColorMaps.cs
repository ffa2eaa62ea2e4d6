namespace NanoCam.Imaging;

/// <summary>A colour map: a value in [0, 1] to an RGB colour.</summary>
public delegate Rgb ColorMap(float value);

/// <summary>The colour maps used for heat-map overlays ("jet", "viridis"), looked up by name.</summary>
public static class ColorMaps
{
    /// <summary>The names <see cref="Get"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["jet", "viridis"];

    public static ColorMap Get(string name) => name.Trim().ToLowerInvariant() switch
    {
        "jet" => Jet,
        "viridis" => Viridis,
        _ => throw new ArgumentException($"unknown colour map '{name}'; valid names: {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>
    /// MATLAB-style jet as three clamped tents: R = clamp(1.5 − |4t − 3|), G = clamp(1.5 − |4t − 2|),
    /// B = clamp(1.5 − |4t − 1|); so jet(0) = (0, 0, ½) dark blue and jet(1) = (½, 0, 0) dark red.
    /// </summary>
    public static Rgb Jet(float value)
    {
        float t = Clamp01(value);
        return new Rgb(Clamp01(1.5f - MathF.Abs(4 * t - 3)), Clamp01(1.5f - MathF.Abs(4 * t - 2)), Clamp01(1.5f - MathF.Abs(4 * t - 1)));
    }

    /// <summary>Viridis (van der Walt &amp; Smith, 2015), piecewise-linear between the control points below.</summary>
    public static Rgb Viridis(float value) => Interpolate(ViridisPoints, Clamp01(value));

    // Viridis sampled at t = i/255 for i = 0, 32, 64, …, 224, 255 (nine points of the 256-entry table);
    // linear interpolation between them stays within about 0.02 of the full table.
    private static readonly (float T, Rgb Color)[] ViridisPoints =
    [
        (0f / 255, new Rgb(0.267004f, 0.004874f, 0.329415f)),
        (32f / 255, new Rgb(0.282623f, 0.140926f, 0.457517f)),
        (64f / 255, new Rgb(0.229739f, 0.322361f, 0.545706f)),
        (96f / 255, new Rgb(0.172719f, 0.448791f, 0.557885f)),
        (128f / 255, new Rgb(0.127568f, 0.566949f, 0.550556f)),
        (160f / 255, new Rgb(0.157851f, 0.683765f, 0.501686f)),
        (192f / 255, new Rgb(0.369214f, 0.788888f, 0.382914f)),
        (224f / 255, new Rgb(0.678489f, 0.863742f, 0.189503f)),
        (255f / 255, new Rgb(0.993248f, 0.906157f, 0.143936f)),
    ];

    private static Rgb Interpolate((float T, Rgb Color)[] points, float t)
    {
        for (int i = 1; i < points.Length; i++)
        {
            if (t <= points[i].T)
            {
                var (t0, c0) = points[i - 1];
                var (t1, c1) = points[i];
                return Rgb.Lerp(c0, c1, (t - t0) / (t1 - t0));
            }
        }
        return points[^1].Color;
    }

    private static float Clamp01(float v) => float.IsNaN(v) ? 0f : Math.Clamp(v, 0f, 1f);
}
