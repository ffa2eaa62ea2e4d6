using NanoCam.Explain.Methods;
using NanoCam.Imaging;

namespace NanoCam.Explain;

/// <summary>
/// One image's explanation from <see cref="Explainer"/>: the map at input resolution in [0, 1], what was explained, and
/// every intermediate the method computed (<see cref="Intermediates"/>: A^k, ∂y^c/∂A^k, the channel weights, … for the
/// CAM family; the raw attributions [C, H, W] for input-space methods).
/// </summary>
public sealed class Explanation
{
    internal Explanation(Method method, string? layer, int targetClass, string? className, float[] map, int width, int height, object intermediates)
    {
        Method = method;
        Layer = layer;
        TargetClass = targetClass;
        ClassName = className;
        Map = map;
        Width = width;
        Height = height;
        Intermediates = intermediates;
    }

    /// <summary>The method that made it.</summary>
    public Method Method { get; }

    /// <summary>The layer the CAM family explained (its tensor name); null for input-space methods that read none.</summary>
    public string? Layer { get; }

    /// <summary>The class explained (for targets that are not one class's score, the class the target reports).</summary>
    public int TargetClass { get; }

    /// <summary>The class's name, when the model has labels.</summary>
    public string? ClassName { get; }

    /// <summary>The map [Height, Width], row after row, min–max normalized to [0, 1] (a flat map is zeros).</summary>
    public float[] Map { get; }

    /// <summary>The map's width: the model input's.</summary>
    public int Width { get; }

    /// <summary>The map's height: the model input's.</summary>
    public int Height { get; }

    /// <summary>
    /// What the method computed on the way: a <see cref="CamResult"/> (capture, channel weights, weighted sum, map before
    /// normalization) for the CAM family, an <see cref="AttributionResult"/> for input-space methods.
    /// </summary>
    public object Intermediates { get; }

    /// <summary>The map blended over <paramref name="image"/> (resized to the map when it differs) in a colour map ("jet", "viridis").</summary>
    public RgbImage Overlay(RgbImage image, string colormap = "jet", float alpha = 0.5f)
    {
        var background = image.Width == Width && image.Height == Height ? image : Resize.Bilinear(image, Width, Height);
        return Imaging.Overlay.Blend(background, Map, Width, Height, ColorMaps.Get(colormap), alpha);
    }
}
