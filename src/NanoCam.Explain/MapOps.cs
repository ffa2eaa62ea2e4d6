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

    /// <summary>
    /// Bilinear resize with align_corners = true (PyTorch's UpsamplingBilinear2d): output pixel (y, x) samples the
    /// source at (y·(h − 1)/(H − 1), x·(w − 1)/(W − 1)), so the corner pixels of both grids coincide.
    /// </summary>
    public static void UpsampleAlignCorners(ReadOnlySpan<float> source, int height, int width, Span<float> destination, int outHeight, int outWidth)
    {
        float sy = outHeight > 1 ? (float)(height - 1) / (outHeight - 1) : 0f, sx = outWidth > 1 ? (float)(width - 1) / (outWidth - 1) : 0f;
        for (int y = 0; y < outHeight; y++)
        {
            float fy = MathF.Min(y * sy, height - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, height - 1);
            float wy = fy - y0;
            for (int x = 0; x < outWidth; x++)
            {
                float fx = MathF.Min(x * sx, width - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, width - 1);
                float wx = fx - x0;
                float top = source[y0 * width + x0] * (1 - wx) + source[y0 * width + x1] * wx;
                float bottom = source[y1 * width + x0] * (1 - wx) + source[y1 * width + x1] * wx;
                destination[y * outWidth + x] = top * (1 - wy) + bottom * wy;
            }
        }
    }

    /// <summary>
    /// (v − min)/(max − min + ε) (ε ≥ 0; pytorch-grad-cam adds one to avoid dividing by zero); a flat map (max = min)
    /// becomes all zeros and the method returns false.
    /// </summary>
    public static bool MinMaxNormalize(ReadOnlySpan<float> input, Span<float> output, float epsilon = 0f)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in input) { min = MathF.Min(min, v); max = MathF.Max(max, v); }
        if (!(max > min))
        {
            output.Clear();
            return false;
        }
        float scale = 1f / (max - min + epsilon);
        for (int i = 0; i < input.Length; i++) output[i] = (input[i] - min) * scale;
        return true;
    }
    /// <summary>Adds N(0, σ²) noise to every value (Box–Muller on <paramref name="rng"/>, two draws per value).</summary>
    public static void AddGaussianNoise(Random rng, Span<float> values, float sigma)
    {
        if (sigma == 0f) return;
        for (int i = 0; i < values.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            values[i] += sigma * (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
    }

    /// <summary>probabilities[c] = e^{z_c − max} / Σ_j e^{z_j − max} for one row of class scores (may be the same span).</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        float max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        double sum = 0;
        foreach (var z in logits) sum += Math.Exp(z - max);
        for (int c = 0; c < logits.Length; c++) probabilities[c] = (float)(Math.Exp(logits[c] - max) / sum);
    }

    /// <summary>softmax(logits)[index] = e^{z_index − max} / Σ_j e^{z_j − max}.</summary>
    public static float SoftmaxAt(ReadOnlySpan<float> logits, int index)
    {
        float max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        double sum = 0;
        foreach (var z in logits) sum += Math.Exp(z - max);
        return (float)(Math.Exp(logits[index] - max) / sum);
    }

    /// <summary>destination[y, x] = source[y, W − 1 − x] for one [H, W] plane.</summary>
    public static void FlipHorizontal(ReadOnlySpan<float> source, int height, int width, Span<float> destination)
    {
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                destination[y * width + x] = source[y * width + width - 1 - x];
    }

    /// <summary>The images [N, C, H, W] mirrored left–right, as a new tensor of <paramref name="kernels"/>.</summary>
    public static Tensor FlipHorizontal(Tensor images, IKernels kernels)
    {
        var source = images.ToArray();
        var mirrored = new float[source.Length];
        int height = images.Shape[2], width = images.Shape[3], plane = height * width;
        for (int offset = 0; offset < source.Length; offset += plane)
            FlipHorizontal(source.AsSpan(offset, plane), height, width, mirrored.AsSpan(offset, plane));
        var result = kernels.Allocate(images.Shape);
        result.Buffer.CopyFrom(mirrored);
        return result;
    }

    /// <summary>
    /// The first principal component of K channel planes [K, hw] (Eigen-CAM, Muhammad &amp; Yeasin 2020, eq. 4–5):
    /// with X the centred hw×K matrix (each channel minus its spatial mean), <paramref name="direction"/> = v₁, the
    /// top eigenvector of XᵀX (the first right singular vector of X, by power iteration), and
    /// <paramref name="projection"/> = X·v₁ [hw]. An eigenvector's sign is arbitrary: it is chosen so that the
    /// projection correlates positively with Σ_k A^k (the mean activation). A zero matrix gives zeros.
    /// </summary>
    public static void PrincipalProjection(ReadOnlySpan<float> channels, int channelCount, int plane, Span<float> direction, Span<float> projection)
    {
        int k = channelCount;
        var centred = CentredPlanes(channels, k, plane, positionMajor: false);
        var covariance = new double[k * k]; // XᵀX
        for (int i = 0; i < k; i++)
            for (int j = i; j < k; j++)
            {
                double dot = 0;
                for (int p = 0; p < plane; p++) dot += centred[i * plane + p] * centred[j * plane + p];
                covariance[i * k + j] = covariance[j * k + i] = dot;
            }
        // Start from the column of the largest-variance channel: it has a component along v₁ unless XᵀX is degenerate.
        int start = 0;
        for (int i = 1; i < k; i++) if (covariance[i * k + i] > covariance[start * k + start]) start = i;
        var v = new double[k];
        var next = new double[k];
        for (int i = 0; i < k; i++) v[i] = covariance[i * k + start];
        if (!ToUnitLength(v))
        {
            direction.Clear();
            projection.Clear();
            return;
        }
        for (int iteration = 0; iteration < 1000; iteration++)
        {
            for (int i = 0; i < k; i++)
            {
                double sum = 0;
                for (int j = 0; j < k; j++) sum += covariance[i * k + j] * v[j];
                next[i] = sum;
            }
            if (!ToUnitLength(next)) break;
            double change = 0;
            for (int i = 0; i < k; i++) change = Math.Max(change, Math.Abs(next[i] - v[i]));
            (v, next) = (next, v);
            if (change < 1e-12) break;
        }
        var proj = new double[plane];
        double correlation = 0;
        for (int p = 0; p < plane; p++)
        {
            double sum = 0, mean = 0;
            for (int c = 0; c < k; c++) { sum += centred[c * plane + p] * v[c]; mean += channels[c * plane + p]; }
            proj[p] = sum;
            correlation += sum * mean;
        }
        double sign = correlation < 0 ? -1 : 1;
        for (int c = 0; c < k; c++) direction[c] = (float)(sign * v[c]);
        for (int p = 0; p < plane; p++) projection[p] = (float)(sign * proj[p]);
    }

    /// <summary>
    /// K planes [K, hw], each minus its spatial mean, in double: channel-major [K, hw], or position-major [hw, K] when
    /// <paramref name="positionMajor"/> (the centred X of Eigen-CAM and of KPCA-CAM).
    /// </summary>
    internal static double[] CentredPlanes(ReadOnlySpan<float> planes, int channels, int plane, bool positionMajor)
    {
        var centred = new double[channels * plane];
        for (int c = 0; c < channels; c++)
        {
            var a = planes.Slice(c * plane, plane);
            double mean = 0;
            foreach (var value in a) mean += value;
            mean /= plane;
            for (int p = 0; p < plane; p++) centred[positionMajor ? p * channels + c : c * plane + p] = a[p] - mean;
        }
        return centred;
    }

    /// <summary>v / ‖v‖ in place; false (v left as it was) for a zero or non-finite norm.</summary>
    internal static bool ToUnitLength(double[] v)
    {
        double norm = 0;
        foreach (var x in v) norm += x * x;
        norm = Math.Sqrt(norm);
        if (!(norm > 0)) return false;
        for (int i = 0; i < v.Length; i++) v[i] /= norm;
        return true;
    }
}
