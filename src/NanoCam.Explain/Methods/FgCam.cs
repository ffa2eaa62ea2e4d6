namespace NanoCam.Explain.Methods;

/// <summary>
/// FG-CAM (Qiu et al. 2023, arXiv 2303.09171): a CAM-family method's explanation components at a layer,
/// I^k = w_k^c · A^k (the channel terms whose sum is the coarse map, Grad-CAM eq. 2), carried down to the input layer by
/// layer through the relation between adjacent feature maps: each convolution hands the component at an output pixel to
/// the input pixels in proportion to their positive contributions x_i·w_ij (the pixels that contribute; the others get
/// nothing), pooling hands it to the inputs that made the pooled value, ReLU and batch normalization pass it unchanged
/// (<see cref="FgCamPropagation"/>). The map is ReLU(Σ_c R_c) of the components that reach the input channels: a map at
/// the input's own resolution. With denoising ("FG-CAM with denoising") the components are first replaced by the rank-d
/// reconstruction of their channel-centred matrix [K, h·w], d = ⌊0.1·min(K, h·w)⌋ (at least 1), before they are carried.
/// </summary>
public sealed class FgCam : InputAttribution
{
    /// <summary>The base methods FG-CAM accepts (<c>--fg-base</c>): CAM methods that weigh whole channels, w_k · A^k.</summary>
    public static IReadOnlyList<string> Bases { get; } = ["gradcam", "gradcam++", "xgradcam", "scorecam"];

    /// <summary>The base method used when none is named.</summary>
    public const string DefaultBase = "gradcam";

    /// <summary>The share of the singular values that FG-CAM with denoising keeps (the authors' 10%).</summary>
    public const double DenoisingShare = 0.1;

    private readonly string? _layer;

    /// <param name="layer">Where the components are computed (null: the model's default layer, the last spatial one).</param>
    /// <param name="baseMethod">One of <see cref="Bases"/>.</param>
    /// <param name="denoise">FG-CAM with denoising.</param>
    public FgCam(string? layer = null, string baseMethod = DefaultBase, bool denoise = false)
    {
        if (WhyNotBase(baseMethod) is { } problem) throw new ArgumentException(problem, nameof(baseMethod));
        (_layer, Base, Denoise) = (layer, baseMethod, denoise);
    }

    /// <summary>Why <paramref name="name"/> cannot be FG-CAM's base (one line listing the accepted ones), or null when it can.</summary>
    public static string? WhyNotBase(string name) =>
        Bases.Contains(name) ? null : $"unknown FG-CAM base method '{name}'; accepted: {string.Join(", ", Bases)}";

    /// <summary>The base method's name.</summary>
    public string Base { get; }

    /// <summary>Whether the components are denoised before they are carried down.</summary>
    public bool Denoise { get; }

    public override string Name => Denoise ? "fgcam-denoise" : "fgcam";

    public override AttributionResult Explain(CamExplainer explainer, Tensor input, CamTarget target)
    {
        if (input.Shape.Rank != 4) throw new ArgumentException($"{Name}: input must be [N, C, H, W], got {input.Shape}");
        var (components, capture) = Components(explainer, input, target);
        if (Denoise)
            for (int n = 0; n < capture.Batch; n++)
                DenoiseComponents(components.AsSpan(n * capture.Channels * capture.Plane, capture.Channels * capture.Plane), capture.Channels, capture.Plane);
        var relevance = FgCamPropagation.ToInput(explainer, input, explainer.Model.ActivationsOf(capture.Layer), components,
            [capture.Batch, capture.Channels, capture.Height, capture.Width], Name);
        return ResultOf(input, relevance, capture.TargetClasses);
    }

    /// <summary>
    /// The explanation components I^k = w_k^c · A^k [N, K, h, w] of the base method at the layer (its channel weights,
    /// from its own pass), and that pass's capture (the layer, its size, the classes explained).
    /// </summary>
    public (float[] Components, LayerCapture Capture) Components(CamExplainer explainer, Tensor input, CamTarget target)
    {
        var method = CamMethods.Create(Base);
        string layer = explainer.LayerFor(method, _layer);
        if (method.WhyNotApplicable(explainer.Model, layer) is { } reason) throw new NotSupportedException($"{Name}: {Base} {reason}");
        var capture = method.Capture(explainer, input, layer, target);
        var weights = new float[capture.Batch * capture.Channels];
        method.ChannelWeights(new CamContext(capture, explainer.Model, input, explainer, target), weights);
        var components = new float[capture.Activations.Length];
        for (int n = 0; n < capture.Batch; n++)
            for (int k = 0; k < capture.Channels; k++)
            {
                // I^k = w_k^c · A^k: the k-th term of the base method's weighted sum (Grad-CAM eq. 2), kept per channel.
                float w = weights[n * capture.Channels + k];
                var a = capture.ActivationPlane(n, k);
                var i = components.AsSpan((n * capture.Channels + k) * capture.Plane, capture.Plane);
                for (int p = 0; p < a.Length; p++) i[p] = w * a[p];
            }
        return (components, capture);
    }

    /// <summary>ReLU(Σ_c R_c): the relevance that reached each pixel, its channels summed, the negative part dropped.</summary>
    public override float[] MapOf(AttributionResult result, int n)
    {
        var map = ChannelSum(result, n, absolute: false);
        for (int p = 0; p < map.Length; p++) map[p] = MathF.Max(map[p], 0f);
        return map;
    }

    /// <summary>The number of singular values denoising keeps for a [K, h·w] component matrix: ⌊0.1·min(K, h·w)⌋, at least 1.</summary>
    public static int KeptSingularValues(int channels, int plane) => Math.Max(1, (int)(DenoisingShare * Math.Min(channels, plane)));

    /// <summary>
    /// FG-CAM with denoising, in place on one image's components M [K, h·w]: each channel centred on its mean over the
    /// positions, M̄ = M − mean; M ← U_d Σ_d V_dᵀ, the rank-d truncated SVD of M̄ (d = <see cref="KeptSingularValues"/>).
    /// The means are not added back (as the authors' code). Computed as the projection of M̄ on the d leading eigenvectors
    /// of the smaller Gram matrix (M̄M̄ᵀ when K ≤ h·w, else M̄ᵀM̄), found by cyclic Jacobi rotations.
    /// </summary>
    public static void DenoiseComponents(Span<float> components, int channels, int plane) =>
        DenoiseComponents(components, channels, plane, KeptSingularValues(channels, plane));

    /// <summary><see cref="DenoiseComponents(Span{float}, int, int)"/> keeping <paramref name="kept"/> singular values.</summary>
    public static void DenoiseComponents(Span<float> components, int channels, int plane, int kept)
    {
        int k = channels, p = plane;
        var centred = new double[k * p];
        for (int c = 0; c < k; c++)
        {
            double mean = 0;
            for (int j = 0; j < p; j++) mean += components[c * p + j];
            mean /= p;
            for (int j = 0; j < p; j++) centred[c * p + j] = components[c * p + j] - mean;
        }
        bool byChannels = k <= p;
        int size = byChannels ? k : p;
        kept = Math.Clamp(kept, 0, size);
        // Gram matrix G (size × size): M̄M̄ᵀ over channels, or M̄ᵀM̄ over positions.
        double At(int row, int col) => byChannels ? centred[row * p + col] : centred[col * p + row];
        int other = byChannels ? p : k;
        var gram = new double[size * size];
        for (int a = 0; a < size; a++)
            for (int b = a; b < size; b++)
            {
                double dot = 0;
                for (int t = 0; t < other; t++) dot += At(a, t) * At(b, t);
                gram[a * size + b] = gram[b * size + a] = dot;
            }
        var (values, vectors) = SymmetricEigen(gram, size);
        var order = Enumerable.Range(0, size).OrderByDescending(i => values[i]).Take(kept).ToArray();
        // Projection on the leading eigenvectors Q (columns): M̄Q Qᵀ-style, on the side of the Gram matrix.
        var result = new double[k * p];
        foreach (int e in order)
        {
            // coefficient of every "other" index along eigenvector e: c_t = Σ_a q_a · At(a, t)
            var coefficients = new double[other];
            for (int t = 0; t < other; t++)
            {
                double sum = 0;
                for (int a = 0; a < size; a++) sum += vectors[a * size + e] * At(a, t);
                coefficients[t] = sum;
            }
            for (int a = 0; a < size; a++)
            {
                double q = vectors[a * size + e];
                for (int t = 0; t < other; t++)
                {
                    int index = byChannels ? a * p + t : t * p + a;
                    result[index] += q * coefficients[t];
                }
            }
        }
        for (int i = 0; i < result.Length; i++) components[i] = (float)result[i];
    }

    /// <summary>Eigenvalues and eigenvectors (columns of a row-major n×n matrix) of a symmetric matrix, by cyclic Jacobi rotations.</summary>
    private static (double[] Values, double[] Vectors) SymmetricEigen(double[] matrix, int n)
    {
        var a = (double[])matrix.Clone();
        var v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        double scale = 0;
        foreach (var x in a) scale += x * x;
        if (scale == 0) return (new double[n], v);
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
            if (off <= 1e-26 * scale) break;
            for (int pIndex = 0; pIndex < n - 1; pIndex++)
                for (int q = pIndex + 1; q < n; q++)
                {
                    double apq = a[pIndex * n + q];
                    if (Math.Abs(apq) <= 1e-300) continue;
                    double theta = (a[q * n + q] - a[pIndex * n + pIndex]) / (2 * apq);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int r = 0; r < n; r++)
                    {
                        // columns p and q
                        double arp = a[r * n + pIndex], arq = a[r * n + q];
                        a[r * n + pIndex] = c * arp - s * arq;
                        a[r * n + q] = s * arp + c * arq;
                    }
                    for (int r = 0; r < n; r++)
                    {
                        // rows p and q
                        double apr = a[pIndex * n + r], aqr = a[q * n + r];
                        a[pIndex * n + r] = c * apr - s * aqr;
                        a[q * n + r] = s * apr + c * aqr;
                    }
                    for (int r = 0; r < n; r++)
                    {
                        double vrp = v[r * n + pIndex], vrq = v[r * n + q];
                        v[r * n + pIndex] = c * vrp - s * vrq;
                        v[r * n + q] = s * vrp + c * vrq;
                    }
                }
        }
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = a[i * n + i];
        return (values, v);
    }
}
