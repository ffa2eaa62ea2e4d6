namespace NanoCam.Explain.Methods;

/// <summary>The kernel k(x, y) of KPCA-CAM between two positions' activation vectors.</summary>
public enum KpcaKernel
{
    /// <summary>exp(−γ‖x − y‖²), the default.</summary>
    Rbf,

    /// <summary>xᵀy: kernel PCA is then plain PCA, and KPCA-CAM is Eigen-CAM.</summary>
    Linear,

    /// <summary>tanh(γ xᵀy + 1) (scikit-learn's coef0 = 1; pytorch-grad-cam's default kernel).</summary>
    Sigmoid,
}

/// <summary>
/// KPCA-CAM (Karmani et al. 2024, arXiv 2410.00267): Eigen-CAM with kernel PCA. The hw positions of the layer are the
/// samples, each with its K centred activations x_p = A_:,p − mean; with the kernel matrix K_pq = k(x_p, x_q) centred in
/// feature space, K̃ = K − 1K − K1 + 1K1 (1 = the hw×hw matrix of 1/hw), the map is the projection of every position on
/// the first kernel principal component, √λ₁·α₁ (K̃α₁ = λ₁α₁, ‖α₁‖ = 1: what scikit-learn's KernelPCA.fit_transform
/// returns), oriented so that it correlates positively with Σ_k A^k (as <see cref="MapOps.PrincipalProjection"/>).
/// Class-agnostic, no gradient. γ defaults to the median heuristic, 1/median_{p&lt;q} ‖x_p − x_q‖² (see <see cref="MedianGamma"/>):
/// scikit-learn's 1/K, which pytorch-grad-cam inherits, makes exp(−γ‖x_p − x_q‖²) vanish between any two positions of a
/// layer of large activations (SqueezeNet's conv10_2), and the first component then isolates a single position. The
/// kernel matrix is hw×hw: the cost grows with the square of the layer's area.
/// </summary>
public sealed class KpcaCam(KpcaKernel kernel = KpcaKernel.Rbf, float? gamma = null) : CamMethod
{
    public override string Name => "kpcacam";
    public override bool UsesGradients => false;
    public override bool ReadsClassScore => false;
    public override bool HasChannelWeights => false;

    /// <summary>The kernel between positions.</summary>
    public KpcaKernel Kernel { get; } = kernel;

    /// <summary>γ of the RBF and sigmoid kernels; null: the median heuristic for the RBF kernel (<see cref="MedianGamma"/>), 1/K for the sigmoid.</summary>
    public float? Gamma { get; } = gamma is null || (float.IsFinite(gamma.Value) && gamma > 0) ? gamma
        : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be a positive number");

    public override void ChannelWeights(CamContext context, Span<float> weights) => weights.Clear();

    public override void Combine(CamContext context, int n, ReadOnlySpan<float> weights, Span<float> map)
    {
        var c = context.Capture;
        var planes = new float[c.Channels * c.Plane];
        for (int k = 0; k < c.Channels; k++) c.ActivationPlane(n, k).CopyTo(planes.AsSpan(k * c.Plane, c.Plane));
        float gamma = Gamma ?? (Kernel == KpcaKernel.Rbf ? MedianGamma(planes, c.Channels, c.Plane) : 1f / c.Channels);
        Project(planes, c.Channels, c.Plane, Kernel, gamma, map);
    }

    /// <summary>
    /// The median heuristic of RBF kernels: γ = 1 / the median of ‖x_p − x_q‖² over the pairs of distinct positions of K planes
    /// [K, hw], so that the typical pair has k = e^−1; 1/K when that median is 0 (most positions alike).
    /// </summary>
    public static float MedianGamma(ReadOnlySpan<float> planes, int channels, int plane)
    {
        if (plane < 2) return 1f / channels;
        var distances = new double[plane * (plane - 1) / 2];
        int index = 0;
        for (int p = 0; p < plane; p++)
            for (int q = p + 1; q < plane; q++)
            {
                double d = 0;
                for (int k = 0; k < channels; k++)
                {
                    double difference = planes[k * plane + p] - planes[k * plane + q];
                    d += difference * difference;
                }
                distances[index++] = d;
            }
        Array.Sort(distances);
        int middle = distances.Length / 2;
        double median = distances.Length % 2 == 1 ? distances[middle] : 0.5 * (distances[middle - 1] + distances[middle]);
        return median > 0 ? (float)(1 / median) : 1f / channels;
    }

    /// <summary>
    /// The projections [hw] of the positions of K planes [K, hw] on their first kernel principal component (see the type).
    /// A centred kernel matrix without a positive eigenvalue (every position alike) gives zeros.
    /// </summary>
    public static void Project(ReadOnlySpan<float> planes, int channels, int plane, KpcaKernel kernel, float gamma, Span<float> projection)
    {
        // x_p: the centred activations of position p, stored position-major [hw, K].
        var x = MapOps.CentredPlanes(planes, channels, plane, positionMajor: true);
        var gram = new double[plane * plane];
        for (int p = 0; p < plane; p++)
            for (int q = p; q < plane; q++)
            {
                double dot = 0, distance = 0;
                for (int k = 0; k < channels; k++)
                {
                    double xp = x[p * channels + k], xq = x[q * channels + k];
                    dot += xp * xq;
                    distance += (xp - xq) * (xp - xq);
                }
                gram[p * plane + q] = gram[q * plane + p] = kernel switch
                {
                    KpcaKernel.Rbf => Math.Exp(-gamma * distance),
                    KpcaKernel.Linear => dot,
                    KpcaKernel.Sigmoid => Math.Tanh(gamma * dot + 1),
                    _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "unknown kernel"),
                };
            }
        CentreInFeatureSpace(gram, plane);
        // RBF and linear kernel matrices are positive semi-definite (and stay so centred): no shift is needed.
        var (alpha, lambda) = TopEigenvector(gram, plane, shifted: kernel == KpcaKernel.Sigmoid);
        if (alpha is null || !(lambda > 0))
        {
            projection.Clear();
            return;
        }
        double scale = Math.Sqrt(lambda), correlation = 0;
        for (int p = 0; p < plane; p++)
        {
            double sum = 0;
            for (int k = 0; k < channels; k++) sum += planes[k * plane + p];
            correlation += alpha[p] * sum;
        }
        if (correlation < 0) scale = -scale;
        for (int p = 0; p < plane; p++) projection[p] = (float)(scale * alpha[p]);
    }

    /// <summary>K̃ = K − 1K − K1 + 1K1 in place: subtract row and column means, add back the overall mean.</summary>
    private static void CentreInFeatureSpace(double[] gram, int size)
    {
        var rowMeans = new double[size];
        double total = 0;
        for (int p = 0; p < size; p++)
        {
            double sum = 0;
            for (int q = 0; q < size; q++) sum += gram[p * size + q];
            rowMeans[p] = sum / size;
            total += sum;
        }
        total /= (double)size * size;
        // K is symmetric, so the column means are the row means.
        for (int p = 0; p < size; p++)
            for (int q = 0; q < size; q++) gram[p * size + q] += total - rowMeans[p] - rowMeans[q];
    }

    /// <summary>
    /// The eigenvector of the largest eigenvalue of a symmetric matrix and that eigenvalue, by power iteration; when
    /// <paramref name="shifted"/>, on the matrix shifted by its Gershgorin bound, so that the largest eigenvalue, not the
    /// largest in magnitude, dominates (a sigmoid kernel matrix need not be positive semi-definite). Null for the zero matrix.
    /// </summary>
    private static (double[]? Vector, double Value) TopEigenvector(double[] matrix, int size, bool shifted)
    {
        double shift = 0;
        int start = 0;
        double startNorm = -1;
        for (int p = 0; p < size; p++)
        {
            double rowAbs = 0, rowSquares = 0;
            for (int q = 0; q < size; q++) { rowAbs += Math.Abs(matrix[p * size + q]); rowSquares += matrix[p * size + q] * matrix[p * size + q]; }
            shift = Math.Max(shift, rowAbs);
            if (rowSquares > startNorm) { startNorm = rowSquares; start = p; }
        }
        if (!(shift > 0)) return (null, 0);
        if (!shifted) shift = 0;
        // Start from the largest column: it has a component along the top eigenvector unless the matrix is degenerate.
        var v = new double[size];
        var next = new double[size];
        for (int p = 0; p < size; p++) v[p] = matrix[p * size + start] + (p == start ? shift : 0);
        if (!MapOps.ToUnitLength(v)) return (null, 0);
        for (int iteration = 0; iteration < 2000; iteration++)
        {
            for (int p = 0; p < size; p++)
            {
                double sum = shift * v[p];
                for (int q = 0; q < size; q++) sum += matrix[p * size + q] * v[q];
                next[p] = sum;
            }
            if (!MapOps.ToUnitLength(next)) return (null, 0);
            double change = 0;
            for (int p = 0; p < size; p++) change = Math.Max(change, Math.Abs(next[p] - v[p]));
            (v, next) = (next, v);
            if (change < 1e-11) break;
        }
        double rayleigh = 0;
        for (int p = 0; p < size; p++)
        {
            double sum = 0;
            for (int q = 0; q < size; q++) sum += matrix[p * size + q] * v[q];
            rayleigh += v[p] * sum;
        }
        return (v, rayleigh);
    }
}
