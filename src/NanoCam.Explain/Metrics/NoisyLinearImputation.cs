namespace NanoCam.Explain.Metrics;

/// <summary>
/// ROAD's noisy linear imputation (Rong et al. 2022, Sec. 4): every removed pixel takes the weighted mean of its eight
/// neighbours, weight 1/6 for the four sharing an edge and 1/12 for the four diagonal ones, normalised by the weights
/// of the neighbours inside the image; removed neighbours are unknowns too, so all removed pixels of a channel are
/// solved together from the sparse linear system W_i x_i − Σ_{j removed} w_ij x_j = Σ_{j kept} w_ij v_j, then
/// N(0, σ²) noise is added to each imputed value (σ = 0.01 in the model's input units by default, as in ROAD).
/// The matrix is symmetric (w_ij = w_ji) and diagonally dominant, positive definite whenever some pixel is kept, and
/// is solved by conjugate gradients. With every pixel removed there is nothing to interpolate from: they become 0 (the
/// mean colour of a normalized input) plus noise.
/// </summary>
public static class NoisyLinearImputation
{
    /// <summary>ROAD's noise σ, in the model's input units.</summary>
    public const float DefaultNoise = 0.01f;

    /// <summary>The neighbour offsets (dx, dy) and their weights: 1/6 across an edge, 1/12 across a corner.</summary>
    public static readonly (int Dx, int Dy, double Weight)[] Neighbours =
    [
        (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6), (0, 1, 1.0 / 6), (0, -1, 1.0 / 6),
        (1, 1, 1.0 / 12), (1, -1, 1.0 / 12), (-1, 1, 1.0 / 12), (-1, -1, 1.0 / 12),
    ];

    /// <summary>
    /// A copy of <paramref name="image"/> [C, H, W] whose pixels with <paramref name="removed"/>[y·W + x] set are imputed
    /// in every channel (noise from <paramref name="random"/>; σ = 0 imputes the exact solution).
    /// </summary>
    public static float[] Impute(float[] image, int channels, int height, int width, ReadOnlySpan<bool> removed, float noise, Random random)
    {
        int plane = height * width;
        if (image.Length != channels * plane) throw new ArgumentException($"the image has {image.Length} values, not {channels}×{height}×{width}");
        if (removed.Length != plane) throw new ArgumentException($"the mask has {removed.Length} values, not {height}×{width}");
        var unknownOf = new int[plane];
        var pixels = new List<int>();
        for (int p = 0; p < plane; p++)
        {
            unknownOf[p] = removed[p] ? pixels.Count : -1;
            if (removed[p]) pixels.Add(p);
        }
        var result = (float[])image.Clone();
        int n = pixels.Count;
        if (n == 0) return result;

        // Row i of the system: the diagonal W_i, the removed neighbours (−w_ij), and the kept ones (they go to b).
        var diagonal = new double[n];
        var coupled = new List<(int Column, double Weight)>[n];
        var known = new List<(int Pixel, double Weight)>[n];
        for (int i = 0; i < n; i++)
        {
            coupled[i] = [];
            known[i] = [];
            int x = pixels[i] % width, y = pixels[i] / width;
            foreach (var (dx, dy, weight) in Neighbours)
            {
                int nx = x + dx, ny = y + dy;
                if ((uint)nx >= (uint)width || (uint)ny >= (uint)height) continue;
                diagonal[i] += weight;
                int q = ny * width + nx;
                if (unknownOf[q] >= 0) coupled[i].Add((unknownOf[q], weight));
                else known[i].Add((q, weight));
            }
        }

        var rhs = new double[n];
        for (int c = 0; c < channels; c++)
        {
            var values = image.AsSpan(c * plane, plane);
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                foreach (var (q, weight) in known[i]) sum += weight * values[q];
                rhs[i] = sum;
            }
            var solution = ConjugateGradient.Solve((input, output) =>
            {
                for (int i = 0; i < n; i++)
                {
                    double sum = diagonal[i] * input[i];
                    foreach (var (j, weight) in coupled[i]) sum -= weight * input[j];
                    output[i] = sum;
                }
            }, rhs);
            var imputed = new float[n];
            for (int i = 0; i < n; i++) imputed[i] = (float)solution[i];
            MapOps.AddGaussianNoise(random, imputed, noise);
            for (int i = 0; i < n; i++) result[c * plane + pixels[i]] = imputed[i];
        }
        return result;
    }
}
