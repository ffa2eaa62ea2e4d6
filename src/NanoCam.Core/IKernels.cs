using NanoCam.Elementwise;

namespace NanoCam;

/// <summary>
/// Every primitive the engine needs, each as a forward and backward pair. A backend (naive CPU, SIMD CPU, ILGPU)
/// implements this and nothing else; layers, autodiff and explanations never ask which backend they run on.
/// Conventions (llm.c's): outputs first, then inputs, then sizes; gradient buffers are named d+name, and
/// backward kernels ACCUMULATE (+=) into them — the caller zeroes. Forward kernels overwrite their outputs.
/// </summary>
public interface IKernels
{
    /// <summary>"naive", "simd", "ilgpu-cuda", ...</summary>
    string Name { get; }

    // ---- storage ----
    /// <summary>A zero-filled tensor in this backend's memory.</summary>
    Tensor Allocate(Shape shape);
    void Fill(Tensor tensor, float value);
    /// <summary>destination = source (same size).</summary>
    void Copy(Tensor destination, Tensor source);
    /// <summary>destination += scale · source (same size).</summary>
    void AddScaled(Tensor destination, Tensor source, float scale);

    // ---- element-wise ----
    /// <summary>output = f(input).</summary>
    void ActivationForward(Activation kind, Tensor output, Tensor input, ActivationParams p);
    /// <summary>dInput += f'(·) · dOutput; <paramref name="input"/> is the forward input, <paramref name="output"/> the forward output.</summary>
    void ActivationBackward(Activation kind, Tensor dInput, Tensor dOutput, Tensor input, Tensor output, ActivationParams p);
    /// <summary>
    /// dInput += rule(dOutput, input) for ReLU (standard, guided, deconvnet); with <paramref name="accumulate"/> false,
    /// dInput = rule(dOutput, input) (its old contents are neither read nor kept: the first gradient written into it).
    /// </summary>
    void ReluBackward(ReluBackwardRule rule, Tensor dInput, Tensor dOutput, Tensor input, bool accumulate = true);
    /// <summary>output = a ∘ b with NumPy broadcasting (output has the broadcast shape).</summary>
    void BinaryForward(BinaryOp op, Tensor output, Tensor a, Tensor b);
    /// <summary>dA += Σ_broadcast ∂(a∘b)/∂a · dOutput, same for dB; either may be null.</summary>
    void BinaryBackward(BinaryOp op, Tensor? dA, Tensor? dB, Tensor dOutput, Tensor a, Tensor b);

    // ---- generic element-wise functions (operator structs: NanoCam.Elementwise) ----
    /// <summary>output = op.Value(input), element by element (same size).</summary>
    void UnaryForward<TOp>(Tensor output, Tensor input, TOp op) where TOp : struct, IUnaryFunction;
    /// <summary>dInput += op.Derivative(x, y) · dOutput, with x = input and y = output of the forward pass.</summary>
    void UnaryBackward<TOp>(Tensor dInput, Tensor dOutput, Tensor input, Tensor output, TOp op) where TOp : struct, IUnaryFunction;
    /// <summary>output = op.Value(a, b) with NumPy broadcasting (output has the broadcast shape).</summary>
    void BinaryForward<TOp>(Tensor output, Tensor a, Tensor b, TOp op) where TOp : struct, IBinaryFunction;
    /// <summary>
    /// dA += Σ_broadcast op.DerivativeA(a, b, y) · dOutput and dB likewise with DerivativeB, each summed over the axes its
    /// operand was broadcast along; either may be null. y is the forward output.
    /// </summary>
    void BinaryBackward<TOp>(Tensor? dA, Tensor? dB, Tensor dOutput, Tensor a, Tensor b, Tensor output, TOp op) where TOp : struct, IBinaryFunction;

    // ---- remap: transpose, slice, pad, expand, tile (see RemapPlan) ----
    /// <summary>output[i] = input[plan.InputOffset(i)], or plan.Fill where that is −1 (a constant border).</summary>
    void RemapForward(Tensor output, Tensor input, RemapPlan plan);
    /// <summary>dInput[plan.InputOffset(i)] += dOutput[i] for every i that reads the input (many i may share an offset: tile, expand, edge/reflect/wrap pads).</summary>
    void RemapBackward(Tensor dInput, Tensor dOutput, RemapPlan plan);

    // ---- reductions along one axis: input seen as [outer, size, inner], output as [outer, inner] ----
    /// <summary>
    /// Sum: output = scale · Σ_j input[o, j, i]; Max / Min: the max / min over j (scale ignored; NaN if any element is NaN).
    /// Over size = 0: Sum gives 0, Max −∞, Min +∞.
    /// </summary>
    void ReduceForward(ReduceKind kind, Tensor output, Tensor input, int outer, int size, int inner, float scale);
    /// <summary>Sum: dInput += scale · dOutput broadcast along j; Max / Min: dOutput split evenly among the j where input equals output (the tied extremes).</summary>
    void ReduceBackward(ReduceKind kind, Tensor dInput, Tensor dOutput, Tensor input, Tensor output, int outer, int size, int inner, float scale);
    /// <summary>
    /// output[o, i] = the index j (as a float) of the max (or min) of input[o, j, i] over j: the first one, or the last with
    /// <paramref name="selectLast"/>. A NaN counts as the extreme (NumPy), so the first (last) NaN wins.
    /// </summary>
    void ArgReduce(Tensor output, Tensor input, int outer, int size, int inner, bool max, bool selectLast);

    // ---- select (all four tensors the same size) ----
    /// <summary>output = condition ≠ 0 ? a : b, element by element.</summary>
    void SelectForward(Tensor output, Tensor condition, Tensor a, Tensor b);
    /// <summary>dA += condition ≠ 0 ? dOutput : 0; dB += condition ≠ 0 ? 0 : dOutput (either may be null).</summary>
    void SelectBackward(Tensor? dA, Tensor? dB, Tensor dOutput, Tensor condition);

    // ---- convolution (NCHW; weight [K, C/groups, R, S]) ----
    void Conv2dForward(Tensor output, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g);
    /// <summary>dInput += ∂L/∂input (dInput = … when <paramref name="accumulate"/> is false).</summary>
    void Conv2dBackwardInput(Tensor dInput, Tensor dOutput, Tensor weight, Conv2dGeometry g, bool accumulate = true);
    void Conv2dBackwardWeight(Tensor dWeight, Tensor dOutput, Tensor input, Conv2dGeometry g);
    /// <summary>dBias[k] += Σ_{n,y,x} dOutput[n,k,y,x].</summary>
    void Conv2dBackwardBias(Tensor dBias, Tensor dOutput);

    // ---- inference convolution (no-grad passes: nothing is kept for backward) ----
    /// <summary>
    /// A prepared form of a constant <paramref name="weight"/> for <see cref="Conv2dInference"/> under <paramref name="g"/>,
    /// or null when this backend has nothing to prepare. It is valid while the weight's values do not change.
    /// </summary>
    PreparedConvWeight? PrepareConv2dWeight(Tensor weight, Conv2dGeometry g);
    /// <summary>
    /// output[:, channelOffset .. channelOffset + K) = act(conv(input, weight) + bias), act = <paramref name="epilogue"/>
    /// (identity, ReLU, Clip, HardSwish, SiLU, …; <see cref="ConvEpilogue.Apply"/> defines each). output is [N, ≥ channelOffset + K, OH, OW]: a convolution may
    /// write its slice of a concat's output. <paramref name="prepared"/>: what <see cref="PrepareConv2dWeight"/> returned
    /// for this weight and geometry, or null.
    /// </summary>
    void Conv2dInference(Tensor output, int channelOffset, Tensor input, Tensor weight, Tensor? bias, Conv2dGeometry g, ConvEpilogue epilogue, PreparedConvWeight? prepared);

    // ---- matrix multiply ----
    /// <summary>C = alpha·op(A)·op(B) + beta·C (see <see cref="GemmShape"/>).</summary>
    void Gemm(Tensor c, Tensor a, Tensor b, GemmShape s);

    // ---- pooling ----
    /// <summary>
    /// output = max over each window; argmax holds the flat index (y·W + x) within the input plane, as a float (exact
    /// below 2^24). A null argmax asks for the values only (a no-grad pass: only backward reads the indices).
    /// </summary>
    void MaxPool2dForward(Tensor output, Tensor? argmax, Tensor input, Pool2dGeometry g);
    /// <summary>dInput[argmax] += dOutput (with <paramref name="accumulate"/> false, dInput is zero elsewhere first).</summary>
    void MaxPool2dBackward(Tensor dInput, Tensor dOutput, Tensor argmax, Pool2dGeometry g, bool accumulate = true);
    /// <summary>output = mean over each window; the divisor counts padded cells when countIncludePad.</summary>
    void AvgPool2dForward(Tensor output, Tensor input, Pool2dGeometry g, bool countIncludePad);
    void AvgPool2dBackward(Tensor dInput, Tensor dOutput, Pool2dGeometry g, bool countIncludePad);
    /// <summary>output[n,c] = (1/HW) Σ_{y,x} input[n,c,y,x]; output is [N, C, 1, 1] or [N, C].</summary>
    void GlobalAvgPoolForward(Tensor output, Tensor input);
    /// <summary>dInput += dOutput / (H·W) over each plane (dInput = … when <paramref name="accumulate"/> is false).</summary>
    void GlobalAvgPoolBackward(Tensor dInput, Tensor dOutput, bool accumulate = true);

    // ---- softmax family along one axis: element (o, c, i) sits at (o·classes + c)·inner + i ----
    void SoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner);
    /// <summary>dInput += y ∘ (dy − Σ_c dy∘y) along the class axis.</summary>
    void SoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner);
    void LogSoftmaxForward(Tensor output, Tensor input, int outer, int classes, int inner);
    /// <summary>dInput += dy − softmax · Σ_c dy along the class axis (output is the log-softmax).</summary>
    void LogSoftmaxBackward(Tensor dInput, Tensor dOutput, Tensor output, int outer, int classes, int inner);
    /// <summary>
    /// Mean cross-entropy of logits [rows, classes] against integer labels (stored as floats): loss[0] = −(1/rows) Σ log softmax(logits)[label].
    /// probabilities receives the softmax for the backward pass.
    /// </summary>
    void CrossEntropyForward(Tensor loss, Tensor probabilities, Tensor logits, Tensor labels, int rows, int classes);
    /// <summary>dLogits += dLoss[0] · (probabilities − onehot(labels)) / rows.</summary>
    void CrossEntropyBackward(Tensor dLogits, Tensor dLoss, Tensor probabilities, Tensor labels, int rows, int classes);

    // ---- batch normalization over the channel axis of NCHW (or [N, C]) ----
    /// <summary>
    /// Training mode: normalize with the batch mean and biased variance, save mean and 1/sqrt(var + eps) for backward,
    /// and update running statistics: running = (1 − momentum)·running + momentum·batch (unbiased variance, as PyTorch).
    /// </summary>
    void BatchNormForwardTraining(Tensor output, Tensor savedMean, Tensor savedInvStd, Tensor runningMean, Tensor runningVar,
        Tensor input, Tensor gamma, Tensor beta, float momentum, float epsilon);
    /// <summary>Inference mode: y = gamma·(x − runningMean)·invStd + beta with invStd = 1/sqrt(runningVar + eps), written to savedInvStd for backward.</summary>
    void BatchNormForwardInference(Tensor output, Tensor savedInvStd, Tensor input, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float epsilon);
    /// <summary>
    /// Accumulates into dInput, dGamma, dBeta (each may be null). With batchStatistics (training mode) mean and invStd
    /// depend on the input, so dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy∘x̂)); without (inference), they are constants and dx = γ·invStd·dy.
    /// dGamma = Σ dy∘x̂, dBeta = Σ dy, with x̂ = (x − mean)·invStd, sums over N, H, W.
    /// </summary>
    void BatchNormBackward(Tensor? dInput, Tensor? dGamma, Tensor? dBeta, Tensor dOutput, Tensor input, Tensor gamma, Tensor mean, Tensor invStd, bool batchStatistics);

    // ---- dropout ----
    /// <summary>mask = keep/(1−p) with keep drawn from a counter-based hash of (seed, index); output = input ∘ mask.</summary>
    void DropoutForward(Tensor output, Tensor mask, Tensor input, float probability, ulong seed);

    // ---- layout ----
    /// <summary>Copies input into output along <paramref name="axis"/> starting at <paramref name="offset"/> (concat).</summary>
    void ConcatForward(Tensor output, Tensor input, int axis, int offset);
    /// <summary>dInput += the slice of dOutput along axis at offset (concat backward).</summary>
    void ConcatBackward(Tensor dInput, Tensor dOutput, int axis, int offset);

    // ---- reductions ----
    /// <summary>output[0] = scale · Σ input.</summary>
    void Sum(Tensor output, Tensor input, float scale);
    /// <summary>dInput += scale · dOutput[0] everywhere.</summary>
    void SumBackward(Tensor dInput, Tensor dOutput, float scale);

    // ---- optimizer updates (in place) ----
    /// <summary>
    /// SGD with momentum and L2 weight decay (PyTorch's rule): g = grad + wd·param; v = momentum·v + g; param −= lr·v.
    /// </summary>
    void SgdStep(Tensor parameter, Tensor gradient, Tensor velocity, float learningRate, float momentum, float weightDecay);
    /// <summary>
    /// Adam (Kingma &amp; Ba 2015, Alg. 1) with L2 weight decay: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
    /// param −= lr · (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + eps).
    /// </summary>
    void AdamStep(Tensor parameter, Tensor gradient, Tensor m, Tensor v, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step);
}
