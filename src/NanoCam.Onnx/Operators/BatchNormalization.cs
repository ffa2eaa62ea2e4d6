using NanoCam.Elementwise;
using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// BatchNormalization: y = γ·(x − μ)/√(σ² + ε) + β with the running statistics; with training_mode (opset ≥ 14) the batch
/// statistics normalize y and the updated running ones are returned as outputs 1 and 2. On a training tape of a model
/// that asks for batch statistics (<see cref="OnnxModel.BatchStatisticsInTraining"/>) an inference-mode node normalizes
/// with the batch's statistics and updates its running statistics in place.
/// </summary>
internal static class BatchNormalization
{
    public static readonly OnnxOperator Operator = new("BatchNormalization", Run)
    {
        MixesBatch = (node, _) => node.Int("training_mode", 0) != 0,
    };

    private static OnnxValue?[] Run(OnnxOperatorContext c)
    {
        var tape = c.Tape;
        var x = c.Float(0);
        var (scale, bias, mean, variance) = (c.Float(1), c.Float(2), c.Float(3), c.Float(4));
        float epsilon = c.Node.Float("epsilon", 1e-5f);
        bool training = c.Node.Int("training_mode", 0) != 0;
        bool plain = x.Shape.Rank is 2 or 4;
        // Only a rank other than 2 and 4 needs the dimensions as an array (seen as [N, C, rest, 1] and back).
        int[] dims = plain ? [] : x.Shape.ToArray();
        var x4 = plain ? x : tape.Reshape(x, [dims[0], dims[1], x.Shape.Product(2, dims.Length), 1]);
        if (!training && c.BatchStatistics)
        {
            // Fine-tuning in train mode: the batch's statistics normalize y and the running ones (initializers) are updated in
            // place by the kernel's rule, running ← (1 − m)·running + m·batch with m = 1 − momentum (ONNX's momentum weighs
            // the running value, PyTorch's the batch's) and the unbiased batch variance, as PyTorch, which exported the graph, does.
            float m = 1f - c.Node.Float("momentum", 0.9f);
            var yb = tape.BatchNorm(x4, scale, bias, mean, variance, training: true, momentum: m, epsilon: epsilon);
            return c.Single(OnnxOperatorContext.Result(ReferenceEquals(x4, x) ? yb : tape.Reshape(yb, dims)));
        }
        if (!training)
        {
            var y0 = tape.BatchNorm(x4, scale, bias, mean, variance, training: false, epsilon: epsilon);
            return c.Single(OnnxOperatorContext.Result(ReferenceEquals(x4, x) ? y0 : tape.Reshape(y0, dims)));
        }
        // Batch statistics normalize y (the kernel's own running update, PyTorch's rule, goes to copies and is dropped);
        // the running statistics returned follow the ONNX rule running·momentum + batch·(1 − momentum), with the
        // population (biased) batch variance, computed with tape ops.
        var y = tape.BatchNorm(x4, scale, bias, tape.Unary(mean, new Scale(1f)), tape.Unary(variance, new Scale(1f)), training: true, epsilon: epsilon);
        if (plain) dims = x.Shape.ToArray();
        var output = OnnxOperatorContext.Result(ReferenceEquals(x4, x) ? y : tape.Reshape(y, dims));
        float momentum = c.Node.Float("momentum", 0.9f);
        int[] statisticsAxes = [0, .. Enumerable.Range(2, dims.Length - 2)];
        int channels = dims[1];
        var batchMean = tape.ReduceMean(x, statisticsAxes, keepDims: true);
        var batchVariance = tape.Reshape(tape.ReduceMean(tape.Unary(tape.Sub(x, batchMean), new Square()), statisticsAxes, keepDims: false), [channels]);
        var runningMean = tape.Add(tape.Unary(mean, new Scale(momentum)), tape.Unary(tape.Reshape(batchMean, [channels]), new Scale(1 - momentum)));
        var runningVariance = tape.Add(tape.Unary(variance, new Scale(momentum)), tape.Unary(batchVariance, new Scale(1 - momentum)));
        return [output, OnnxOperatorContext.Result(runningMean), OnnxOperatorContext.Result(runningVariance)];
    }
}
