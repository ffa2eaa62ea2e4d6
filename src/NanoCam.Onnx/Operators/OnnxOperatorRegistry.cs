namespace NanoCam.Onnx.Operators;

/// <summary>
/// The operators NanoCam imports: this list is the only place an operator is made known (no reflection), and what
/// `nanocam layers`, the README and the load-time check read. Adding an operator is one file and one line here.
/// </summary>
internal static class OnnxOperatorRegistry
{
    /// <summary>The newest default-domain opset whose operator semantics NanoCam knows.</summary>
    public const int NewestOpset = 27;

    private static readonly OnnxOperator[] All =
    [
        Conv.Operator,
        Pooling.MaxPoolOperator, Pooling.AveragePoolOperator, Pooling.GlobalAveragePoolOperator, Pooling.GlobalMaxPoolOperator,
        Activations.Relu, Activations.LeakyRelu, Activations.Sigmoid, Activations.Clip,
        Gemm.Operator, MatMul.Operator,
        Arithmetic.Add, Arithmetic.Sub, Arithmetic.Mul, Arithmetic.Div,
        BatchNormalization.Operator, Dropout.Operator,
        Reshaping.Reshape, Reshaping.Flatten, Reshaping.Squeeze, Reshaping.Unsqueeze, Identity.Operator,
        Concat.Operator, Softmax.SoftmaxOperator, Softmax.LogSoftmaxOperator,
        Constant.Operator, ShapeOf.Operator, ShapeOf.Size, Gather.Operator,
        ElementwiseUnary.Abs, ElementwiseUnary.Neg, ElementwiseUnary.Exp, ElementwiseUnary.Log, ElementwiseUnary.Sqrt,
        ElementwiseUnary.Reciprocal, ElementwiseUnary.Sign, ElementwiseUnary.Floor, ElementwiseUnary.Ceil, ElementwiseUnary.Round,
        ElementwiseUnary.Tanh, ElementwiseUnary.Erf, ElementwiseUnary.Softplus, ElementwiseUnary.Softsign, ElementwiseUnary.Mish,
        ElementwiseUnary.HardSwish, ElementwiseUnary.HardSigmoid, ElementwiseUnary.Elu, ElementwiseUnary.Celu, ElementwiseUnary.Selu,
        ElementwiseUnary.Gelu,
        ElementwiseBinary.Pow, ElementwiseBinary.PRelu, ElementwiseBinary.Mod, ElementwiseBinary.Equal, ElementwiseBinary.Less,
        ElementwiseBinary.Greater, ElementwiseBinary.LessOrEqual, ElementwiseBinary.GreaterOrEqual, ElementwiseBinary.And,
        ElementwiseBinary.Or, ElementwiseBinary.Xor, ElementwiseBinary.Not,
        Variadic.Sum, Variadic.Mean, Variadic.Max, Variadic.Min,
        Transpose.Operator, Slice.Operator, Split.Operator, Pad.Operator, Broadcasting.Expand, Broadcasting.Tile,
        Cast.Operator, Cast.Like, Constants.ConstantOfShape, Constants.Range, Where.Operator,
        Reductions.ReduceSum, Reductions.ReduceMean, Reductions.ReduceMax, Reductions.ReduceMin, Reductions.ReduceProd,
        Reductions.ReduceSumSquare, Reductions.ReduceL1, Reductions.ReduceL2, Reductions.ReduceLogSum, Reductions.ReduceLogSumExp,
        ArgReduce.ArgMax, ArgReduce.ArgMin,
        Normalization.LayerNormalization, Normalization.GroupNormalization, Normalization.InstanceNormalization,
        LocalResponseNormalization.Operator,
        Resize.ResizeOperator, Resize.UpsampleOperator,
        ConvTranspose.Operator,
        DepthToSpace.DepthToSpaceOperator, DepthToSpace.SpaceToDepthOperator,
        Einsum.Operator,
    ];

    private static readonly Dictionary<string, OnnxOperator> ByType = All.ToDictionary(o => o.OpType);

    /// <summary>The operator for <paramref name="opType"/> in the default domain, or null.</summary>
    public static OnnxOperator? Find(string opType) => ByType.GetValueOrDefault(opType);

    /// <summary>Every supported op type, sorted.</summary>
    public static IReadOnlyList<string> OpTypes { get; } = [.. All.Select(o => o.OpType).Order(StringComparer.Ordinal)];
}
