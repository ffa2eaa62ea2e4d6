namespace NanoCam.Explain;

/// <summary>The shared tail of every CAM method: weighted sums, ReLU, bilinear upsampling and min–max normalization.</summary>
public static class MapOps
{
    /// <summary>map[p] = Σ_k weights[k] · A^k[p] for one image (the CAM / Grad-CAM linear combination).</summary>
    public static void WeightedSum(LayerCapture c, int n, ReadOnlySpan<float> weights, Span<float> map)
    {
        map.Clear();
        for (int k = 0; k < c.Channels; k++)
        {
            float w = weights[k];
            if (w == 0f) continue;
            var a = c.ActivationPlane(n, k);
            for (int p = 0; p < map.Length; p++) map[p] += w * a[p];
        }
    }

    public static void Relu(ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < input.Length; i++) output[i] = MathF.Max(input[i], 0f);
    }

    /// <summary>
    /// Bilinear resize with half-pixel centres (align_corners = false, as PyTorch and OpenCV): output pixel (y, x)
    /// samples the source at ((y + ½)·h/H − ½, (x + ½)·w/W − ½), clamped to the border.
    /// </summary>
    public static void Upsample(ReadOnlySpan<float> source, int height, int width, Span<float> destination, int outHeight, int outWidth)
    {
        float sy = (float)height / outHeight, sx = (float)width / outWidth;
        for (int y = 0; y < outHeight; y++)
        {
            float fy = Math.Clamp((y + 0.5f) * sy - 0.5f, 0f, height - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, height - 1);
            float wy = fy - y0;
            for (int x = 0; x < outWidth; x++)
            {
                float fx = Math.Clamp((x + 0.5f) * sx - 0.5f, 0f, width - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, width - 1);
                float wx = fx - x0;
                float top = source[y0 * width + x0] * (1 - wx) + source[y0 * width + x1] * wx;
                float bottom = source[y1 * width + x0] * (1 - wx) + source[y1 * width + x1] * wx;
                destination[y * outWidth + x] = top * (1 - wy) + bottom * wy;
            }
        }
    }

    /// <summary>(v − min)/(max − min); a flat map (max = min) becomes all zeros and the method returns false.</summary>
    public static bool MinMaxNormalize(ReadOnlySpan<float> input, Span<float> output)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in input) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
        if (!(max > min))
        {
            output.Clear();
            return false;
        }
        float scale = 1f / (max - min);
        for (int i = 0; i < input.Length; i++) output[i] = (input[i] - min) * scale;
        return true;
    }
}
