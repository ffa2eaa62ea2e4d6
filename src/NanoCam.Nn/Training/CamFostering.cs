using NanoCam.Autodiff;
using NanoCam.Elementwise;
using NanoCam.Nn.Models;
using NanoCam.Ops;

namespace NanoCam.Nn.Training;

/// <summary>
/// CAM fostering (Schöttl 2020, arXiv 2009.12546): the mean over the batch of the Shannon entropy of each image's
/// normalised, ReLU'd class activation map of its true class, built from tape ops so that the ordinary backward
/// differentiates it. With M_c = Σ_k w_k^c A^k (CAM eq. 3), p = ReLU(M_c) / (Σ_{x,y} ReLU(M_c) + ε) and
/// H = −Σ_{x,y} p log(p + ε), the training loss becomes cross-entropy + λ·(1/N) Σ_n H_n.
/// With <see cref="CamFosteringMethod.GradCam"/> the map is Grad-CAM's at any published 4-D layer (Selvaraju et al. 2017,
/// eq. 1–2): α_k^c = (1/Z) Σ_ij ∂y^c/∂A^k_ij, M = Σ_k α_k^c A^k; the gradient ∂y^c/∂A is recorded on the tape
/// (<see cref="Tape.Grad(Tensor, Tensor, Tensor?, bool)"/> with createGraph), so the ordinary backward of the loss differentiates through it (second order).
/// </summary>
public sealed class CamFostering
{
    /// <summary>ε of the normalisation and of the logarithm: keeps an all-zero map (p = 0, H = 0) and p log p at p = 0 finite.</summary>
    public const float Epsilon = 1e-6f;

    private readonly GapCnn _model;
    private float[] _labels = [];
    private Tensor? _oneHotHost, _oneHot;

    /// <param name="lambda">Weight λ ≥ 0 of the entropy term.</param>
    /// <param name="layer">Published layer A^k whose channels the classifier weighs (its channel count must be the classifier's input).</param>
    /// <param name="method">Which map's entropy is penalised: CAM's (first order) or Grad-CAM's (second order).</param>
    public CamFostering(GapCnn model, float lambda, string layer = GapCnn.FeatureLayer, CamFosteringMethod method = CamFosteringMethod.Cam)
    {
        if (!(lambda >= 0) || !float.IsFinite(lambda)) throw new ArgumentException($"the CAM fostering weight must be 0 or a positive number, got {lambda}");
        _model = model;
        Lambda = lambda;
        Layer = layer;
        Method = method;
    }

    /// <summary>The map whose entropy is penalised: CAM or Grad-CAM.</summary>
    public CamFosteringMethod Method { get; }

    /// <summary>λ, the weight of the mean map entropy in the loss.</summary>
    public float Lambda { get; }

    /// <summary>Name of the feature layer A^k on the tape.</summary>
    public string Layer { get; }

    /// <summary>
    /// The published tensors of a forward pass that can carry the CAM: 4-D, with as many channels as the classifier has
    /// inputs (the GAP input and the layers computing it inside the feature stack).
    /// </summary>
    public static IReadOnlyList<string> Candidates(Tape tape, GapCnn model) =>
        tape.Named.Where(kv => kv.Value.Shape.Rank == 4 && kv.Value.Shape[1] == model.FeatureChannels).Select(kv => kv.Key).ToList();

    /// <summary>The published tensors that can carry a Grad-CAM map: every 4-D one.</summary>
    public static IReadOnlyList<string> GradCamCandidates(Tape tape) =>
        tape.Named.Where(kv => kv.Value.Shape.Rank == 4).Select(kv => kv.Key).ToList();

    /// <summary>The tensor A^k of <see cref="Layer"/> in the pass recorded on <paramref name="tape"/>; refuses a layer that cannot carry the map, listing those that can.</summary>
    public Tensor FeaturesOn(Tape tape)
    {
        bool gradCam = Method == CamFosteringMethod.GradCam;
        if (!tape.Named.TryGetValue(Layer, out var features) || features.Shape.Rank != 4 || (!gradCam && features.Shape[1] != _model.FeatureChannels))
            throw new ArgumentException($"--foster-layer: '{Layer}' is not a feature layer of this network (candidates: {string.Join(", ", gradCam ? GradCamCandidates(tape) : Candidates(tape, _model))})");
        return features;
    }

    /// <summary>
    /// Appends the mean entropy (1/N) Σ_n H_n of the true-class maps to <paramref name="tape"/>, after the model's forward
    /// pass; <paramref name="labels"/> [N] hold class indices (host or device). Returns the scalar term (λ not applied).
    /// Grad-CAM needs the pass's <paramref name="logits"/> [N, classes] (y^c is differentiated) on a tape that records gradients.
    /// </summary>
    public Tensor MeanEntropy(Tape tape, Tensor labels, Tensor? logits = null)
    {
        var features = FeaturesOn(tape);
        int n = features.Shape[0], channels = features.Shape[1], classes = _model.Classes;
        var oneHot = OneHot(tape.Kernels, labels, n, classes);
        Tensor perChannel;
        if (Method == CamFosteringMethod.GradCam)
        {
            if (logits is null) throw new ArgumentException("Grad-CAM fostering needs the logits of the pass");
            if (!features.RequiresGrad) throw new InvalidOperationException($"Grad-CAM fostering: the layer '{Layer}' carries no gradient on this tape");
            // Σ_n y^{c_n}: each image's true-class score (images are independent except through batch statistics).
            var trueScores = tape.Sum(tape.Mul(logits, oneHot));
            // ∂y^c/∂A^k_ij, recorded as taped ops so that the loss's backward reaches the weights through it.
            var gradient = tape.Grad(trueScores, features, createGraph: true);
            // α_k^c = (1/Z) Σ_ij ∂y^c/∂A^k_ij  (Grad-CAM eq. 1).
            perChannel = tape.ReduceMean(gradient, [2, 3], keepDims: true);
        }
        else
        {
            // w^{c_n} for every image: the true class's row of the classifier, picked by a one-hot product [N, classes]·[classes, K].
            var weights = tape.MatMul(oneHot, _model.Classifier.Weight.Value);
            perChannel = tape.Reshape(weights, [n, channels, 1, 1]);
        }
        // M_c(x, y) = Σ_k w_k^c A^k(x, y)  (CAM eq. 3; Grad-CAM eq. 2 with α_k^c), a broadcast product summed over channels.
        var map = tape.Reduce(ReduceKind.Sum, tape.Mul(features, perChannel), [1], keepDims: true);
        var positive = tape.Relu(map);
        var mass = tape.Reduce(ReduceKind.Sum, positive, [2, 3], keepDims: true);
        // Schöttl's normalised map: p(x, y) = ReLU(M_c)(x, y) / Σ ReLU(M_c); the entropy c_e = −Σ p log p.
        var p = tape.Div(positive, tape.Unary(mass, new Shift(Epsilon)));
        var pLogP = tape.Mul(p, tape.Unary(tape.Unary(p, new Shift(Epsilon)), new Log()));
        return tape.Unary(tape.Sum(pLogP), new Scale(-1f / n));
    }

    private Tensor OneHot(IKernels kernels, Tensor labels, int n, int classes)
    {
        if (_oneHotHost is null || _oneHotHost.Shape[0] != n || _oneHotHost.Shape[1] != classes) _oneHotHost = Tensor.Zeros(n, classes);
        if (_labels.Length < n) _labels = new float[n];
        labels.Buffer.CopyTo(_labels.AsSpan(0, n));
        var values = _oneHotHost.Span;
        values.Clear();
        for (int i = 0; i < n; i++)
        {
            int label = (int)_labels[i];
            if ((uint)label >= (uint)classes) throw new ArgumentException($"CAM fostering: label {label} is not a class index (0..{classes - 1})");
            values[i * classes + label] = 1f;
        }
        return kernels.Stage(_oneHotHost, ref _oneHot);
    }
}

/// <summary>The map whose entropy CAM fostering penalises.</summary>
public enum CamFosteringMethod
{
    /// <summary>CAM: M_c = Σ_k w_k^c A^k with the classifier's weights (first order).</summary>
    Cam,
    /// <summary>Grad-CAM: M_c = Σ_k α_k^c A^k with α from ∂y^c/∂A (second order through the tape).</summary>
    GradCam,
}
