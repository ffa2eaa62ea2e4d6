using NanoCam.Ops;

namespace NanoCam.Onnx.Operators;

/// <summary>
/// BatchNormalization: y = γ·(x − μ)/√(σ² + ε) + β with the running statistics; with training_mode (opset ≥ 14) the batch
/// statistics normalize y and the updated running ones are returned as outputs 1 and 2.
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
        var dims = x.Shape.ToArray();
        var x4 = x.Shape.Rank is 2 or 4 ? x : tape.Reshape(x, [dims[0], dims[1], x.Shape.Product(2, dims.Length), 1]);
        if (!training)
        {
            var y0 = tape.BatchNorm(x4, scale, bias, mean, variance, training: false, epsilon: epsilon);
            return [OnnxOperatorContext.Result(ReferenceEquals(x4, x) ? y0 : tape.Reshape(y0, dims))];
        }
        // Batch statistics normalize y; the running statistics follow the ONNX rule
        // running = running·momentum + batch·(1 − momentum), with the population (biased) batch variance.
        // The kernel updates the running statistics it is given in place (with PyTorch's rule), so it gets copies.
        var y = c.ShapeOnly ? tape.BatchNorm(x4, scale, bias, mean, variance, training: true, epsilon: epsilon)
            : tape.BatchNorm(x4, scale, bias, tape.Kernels.Stage(Tensor.FromArray(mean.ToArray(), mean.Shape.ToArray())),
                tape.Kernels.Stage(Tensor.FromArray(variance.ToArray(), variance.Shape.ToArray())), training: true, epsilon: epsilon);
        var output = OnnxOperatorContext.Result(ReferenceEquals(x4, x) ? y : tape.Reshape(y, dims));
        int channels = dims[1];
        if (c.ShapeOnly)
            return [output, OnnxOperatorContext.Result(tape.Kernels.Allocate(new Shape(channels))), OnnxOperatorContext.Result(tape.Kernels.Allocate(new Shape(channels)))];
        float momentum = c.Node.Float("momentum", 0.9f);
        int spatial = x.Shape.Product(2, dims.Length), count = dims[0] * spatial;
        var xs = x.ToArray();
        var runningMean = mean.ToArray();
        var runningVar = variance.ToArray();
        for (int k = 0; k < channels; k++)
        {
            double sum = 0, squares = 0;
            for (int n = 0; n < dims[0]; n++)
                for (int i = 0; i < spatial; i++)
                {
                    double v = xs[(n * channels + k) * spatial + i];
                    sum += v;
                    squares += v * v;
                }
            double batchMean = sum / count, batchVar = squares / count - batchMean * batchMean;
            runningMean[k] = (float)(runningMean[k] * momentum + batchMean * (1 - momentum));
            runningVar[k] = (float)(runningVar[k] * momentum + batchVar * (1 - momentum));
        }
        return [output, OnnxOperatorContext.Result(tape.Kernels.Stage(Tensor.FromArray(runningMean, channels))),
            OnnxOperatorContext.Result(tape.Kernels.Stage(Tensor.FromArray(runningVar, channels)))];
    }
}
