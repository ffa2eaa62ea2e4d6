using ILGPU;
using ILGPU.Runtime;
using NanoCam.Elementwise;
using NanoCam.Gpu.Kernels;
using V = ILGPU.ArrayView<float>;

namespace NanoCam.Gpu;

/// <summary>
/// Every kernel of the backend, compiled for one accelerator on first use and kept: the one place kernels are loaded.
/// Element-wise kernels are auto-grouped (one thread per element); the tiled and block-reduction kernels take an
/// explicit <see cref="KernelConfig"/>.
/// </summary>
internal sealed class KernelCache(Accelerator accelerator)
{
    private Action<Index1D, T1, T2> Auto<T1, T2>(ref Action<Index1D, T1, T2>? slot, Action<Index1D, T1, T2> kernel)
        where T1 : struct where T2 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);
    private Action<Index1D, T1, T2, T3> Auto<T1, T2, T3>(ref Action<Index1D, T1, T2, T3>? slot, Action<Index1D, T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);

    // ---- element-wise ----
    private Action<Index1D, V, float>? _fill;
    public Action<Index1D, V, float> Fill => Auto(ref _fill, ElementwiseKernels.Fill);
    private Action<Index1D, V, V>? _copy;
    public Action<Index1D, V, V> Copy => Auto(ref _copy, ElementwiseKernels.Copy);
    private Action<Index1D, V, V, float>? _addScaled;
    public Action<Index1D, V, V, float> AddScaled => Auto(ref _addScaled, ElementwiseKernels.AddScaled);
    private Action<Index1D, V, V, int, ActivationParams>? _activationForward;
    public Action<Index1D, V, V, int, ActivationParams> ActivationForward =>
        _activationForward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, int, ActivationParams>(ElementwiseKernels.ActivationForward);
    private Action<Index1D, V, V, V, V, int, ActivationParams>? _activationBackward;
    public Action<Index1D, V, V, V, V, int, ActivationParams> ActivationBackward =>
        _activationBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, int, ActivationParams>(ElementwiseKernels.ActivationBackward);
    private Action<Index1D, V, V, V, int>? _reluBackward;
    public Action<Index1D, V, V, V, int> ReluBackward =>
        _reluBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, int>(ElementwiseKernels.ReluBackward);
    private Action<Index1D, V, V, V, int, BroadcastIndex>? _binaryForward;
    public Action<Index1D, V, V, V, int, BroadcastIndex> BinaryForward =>
        _binaryForward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, int, BroadcastIndex>(ElementwiseKernels.BinaryForward);
    private Action<Index1D, V, V, V, V, V, int, BroadcastIndex, BinaryTargets>? _binaryBackward;
    public Action<Index1D, V, V, V, V, V, int, BroadcastIndex, BinaryTargets> BinaryBackward =>
        _binaryBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, V, int, BroadcastIndex, BinaryTargets>(ElementwiseKernels.BinaryBackward);

    // ---- generic element-wise kernels: one compiled kernel per operator struct, kept by (struct type, kernel) ----
    private readonly Dictionary<(Type Op, int Kernel), Delegate> _generic = [];

    private bool TryGeneric<TOp, TKernel>(int kernel, out TKernel loaded) where TKernel : Delegate
    {
        bool found = _generic.TryGetValue((typeof(TOp), kernel), out var cached);
        loaded = (TKernel)cached!;
        return found;
    }

    private TKernel KeepGeneric<TOp, TKernel>(int kernel, TKernel loaded) where TKernel : Delegate
    {
        _generic[(typeof(TOp), kernel)] = loaded;
        return loaded;
    }

    public Action<Index1D, V, V, TOp> FunctionUnary<TOp>() where TOp : struct, IUnaryFunction =>
        TryGeneric<TOp, Action<Index1D, V, V, TOp>>(0, out var k) ? k
            : KeepGeneric<TOp, Action<Index1D, V, V, TOp>>(0, accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, TOp>(FunctionKernels.Unary));
    public Action<Index1D, V, V, V, V, TOp> FunctionUnaryBackward<TOp>() where TOp : struct, IUnaryFunction =>
        TryGeneric<TOp, Action<Index1D, V, V, V, V, TOp>>(1, out var k) ? k
            : KeepGeneric<TOp, Action<Index1D, V, V, V, V, TOp>>(1, accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, TOp>(FunctionKernels.UnaryBackward));
    public Action<Index1D, V, V, V, BroadcastIndex, TOp> FunctionBinary<TOp>() where TOp : struct, IBinaryFunction =>
        TryGeneric<TOp, Action<Index1D, V, V, V, BroadcastIndex, TOp>>(2, out var k) ? k
            : KeepGeneric<TOp, Action<Index1D, V, V, V, BroadcastIndex, TOp>>(2, accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, BroadcastIndex, TOp>(FunctionKernels.Binary));
    public Action<Index1D, V, V, V, V, V, V, BroadcastIndex, BinaryTargets, TOp> FunctionBinaryBackward<TOp>() where TOp : struct, IBinaryFunction =>
        TryGeneric<TOp, Action<Index1D, V, V, V, V, V, V, BroadcastIndex, BinaryTargets, TOp>>(3, out var k) ? k
            : KeepGeneric<TOp, Action<Index1D, V, V, V, V, V, V, BroadcastIndex, BinaryTargets, TOp>>(3,
                accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, V, V, BroadcastIndex, BinaryTargets, TOp>(FunctionKernels.BinaryBackward));

    // ---- select, remap, axis reductions ----
    private Action<Index1D, V, V, V, V>? _select;
    public Action<Index1D, V, V, V, V> Select => _select ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V>(FunctionKernels.Select);
    private Action<Index1D, V, V, V, V, int, int>? _selectBackward;
    public Action<Index1D, V, V, V, V, int, int> SelectBackward =>
        _selectBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, int, int>(FunctionKernels.SelectBackward);
    private Action<Index1D, V, V, RemapIndex>? _remapForward;
    public Action<Index1D, V, V, RemapIndex> RemapForward => Auto(ref _remapForward, RemapKernels.Forward);
    private Action<Index1D, V, V, RemapIndex, int>? _remapBackward;
    public Action<Index1D, V, V, RemapIndex, int> RemapBackward =>
        _remapBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, RemapIndex, int>(RemapKernels.Backward);
    private Action<Index1D, V, V, int, int, int, float>? _reduceLines;
    public Action<Index1D, V, V, int, int, int, float> ReduceLines =>
        _reduceLines ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, int, int, int, float>(ReductionKernels.ReduceLines);
    private Action<KernelConfig, V, V, int, int, int, float>? _reduceLinesByGroup;
    public Action<KernelConfig, V, V, int, int, int, float> ReduceLinesByGroup =>
        _reduceLinesByGroup ??= accelerator.LoadStreamKernel<V, V, int, int, int, float>(ReductionKernels.ReduceLinesByGroup);
    private Action<Index1D, V, V, int, int, float>? _reduceSumBackward;
    public Action<Index1D, V, V, int, int, float> ReduceSumBackward =>
        _reduceSumBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, int, int, float>(ReductionKernels.ReduceSumBackward);
    private Action<Index1D, V, V, V, int, int>? _tieCounts;
    public Action<Index1D, V, V, V, int, int> TieCounts =>
        _tieCounts ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, int, int>(ReductionKernels.TieCounts);
    private Action<Index1D, V, V, V, V, V, int, int>? _tiesBackward;
    public Action<Index1D, V, V, V, V, V, int, int> TiesBackward =>
        _tiesBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, V, int, int>(ReductionKernels.TiesBackward);
    private Action<Index1D, V, V, int, int, int, int>? _argReduce;
    public Action<Index1D, V, V, int, int, int, int> ArgReduce =>
        _argReduce ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, int, int, int, int>(ReductionKernels.ArgReduce);

    // ---- convolution and GEMM ----
    private Action<KernelConfig, V, V, V, V, int, Conv2dGeometry>? _convForward;
    public Action<KernelConfig, V, V, V, V, int, Conv2dGeometry> ConvForward =>
        _convForward ??= accelerator.LoadStreamKernel<V, V, V, V, int, Conv2dGeometry>(ConvKernels.ForwardTiled);
    private Action<Index1D, V, V, V, V, int, Conv2dGeometry>? _convForwardDirect;
    public Action<Index1D, V, V, V, V, int, Conv2dGeometry> ConvForwardDirect =>
        _convForwardDirect ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, int, Conv2dGeometry>(ConvKernels.ForwardDirect);
    private Action<Index1D, V, V, V, GemmArgs>? _gemmDirect;
    public Action<Index1D, V, V, V, GemmArgs> GemmDirect => _gemmDirect ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, GemmArgs>(GemmKernels.Direct);
    private Action<Index1D, V, V, V, Conv2dGeometry>? _convBackwardInput;
    public Action<Index1D, V, V, V, Conv2dGeometry> ConvBackwardInput =>
        _convBackwardInput ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, Conv2dGeometry>(ConvKernels.BackwardInput);
    private Action<Index1D, V, V, V, Conv2dGeometry>? _convBackwardWeight;
    public Action<Index1D, V, V, V, Conv2dGeometry> ConvBackwardWeight =>
        _convBackwardWeight ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, Conv2dGeometry>(ConvKernels.BackwardWeight);
    private Action<Index1D, V, V, int, int, int>? _convBackwardBias;
    public Action<Index1D, V, V, int, int, int> ConvBackwardBias =>
        _convBackwardBias ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, int, int, int>(ConvKernels.BackwardBias);
    private Action<KernelConfig, V, V, V, GemmArgs>? _gemm;
    public Action<KernelConfig, V, V, V, GemmArgs> Gemm => _gemm ??= accelerator.LoadStreamKernel<V, V, V, GemmArgs>(GemmKernels.Tiled);

    // ---- pooling ----
    private Action<Index1D, V, V, V, PoolArgs>? _maxForward;
    public Action<Index1D, V, V, V, PoolArgs> MaxPoolForward =>
        _maxForward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, PoolArgs>(PoolingKernels.MaxForward);
    private Action<Index1D, V, V, V, PoolArgs>? _maxBackward;
    public Action<Index1D, V, V, V, PoolArgs> MaxPoolBackward =>
        _maxBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, PoolArgs>(PoolingKernels.MaxBackward);
    private Action<Index1D, V, V, PoolArgs>? _avgForward;
    public Action<Index1D, V, V, PoolArgs> AvgPoolForward => Auto(ref _avgForward, PoolingKernels.AvgForward);
    private Action<Index1D, V, V, PoolArgs>? _avgBackward;
    public Action<Index1D, V, V, PoolArgs> AvgPoolBackward => Auto(ref _avgBackward, PoolingKernels.AvgBackward);
    private Action<Index1D, V, V, int>? _gapForward;
    public Action<Index1D, V, V, int> GlobalAvgPoolForward => Auto(ref _gapForward, PoolingKernels.GlobalAvgForward);
    private Action<Index1D, V, V, int>? _gapBackward;
    public Action<Index1D, V, V, int> GlobalAvgPoolBackward => Auto(ref _gapBackward, PoolingKernels.GlobalAvgBackward);

    // ---- softmax family and reductions (one group per line) ----
    private Action<KernelConfig, V, V, int, int>? _softmaxForward, _logSoftmaxForward;
    public Action<KernelConfig, V, V, int, int> SoftmaxForward =>
        _softmaxForward ??= accelerator.LoadStreamKernel<V, V, int, int>(SoftmaxKernels.Forward);
    public Action<KernelConfig, V, V, int, int> LogSoftmaxForward =>
        _logSoftmaxForward ??= accelerator.LoadStreamKernel<V, V, int, int>(SoftmaxKernels.LogForward);
    private Action<KernelConfig, V, V, V, int, int>? _softmaxBackward, _logSoftmaxBackward;
    public Action<KernelConfig, V, V, V, int, int> SoftmaxBackward =>
        _softmaxBackward ??= accelerator.LoadStreamKernel<V, V, V, int, int>(SoftmaxKernels.Backward);
    public Action<KernelConfig, V, V, V, int, int> LogSoftmaxBackward =>
        _logSoftmaxBackward ??= accelerator.LoadStreamKernel<V, V, V, int, int>(SoftmaxKernels.LogBackward);
    private Action<KernelConfig, V, V, ArrayView<int>, V, V, int>? _crossEntropyRows;
    public Action<KernelConfig, V, V, ArrayView<int>, V, V, int> CrossEntropyRows =>
        _crossEntropyRows ??= accelerator.LoadStreamKernel<V, V, ArrayView<int>, V, V, int>(SoftmaxKernels.CrossEntropyRows);
    private Action<Index1D, V, V, V, V, int, int>? _crossEntropyBackward;
    public Action<Index1D, V, V, V, V, int, int> CrossEntropyBackward =>
        _crossEntropyBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, int, int>(SoftmaxKernels.CrossEntropyBackward);
    private Action<KernelConfig, V, V, int, float>? _sum;
    public Action<KernelConfig, V, V, int, float> Sum => _sum ??= accelerator.LoadStreamKernel<V, V, int, float>(ReductionKernels.Sum);
    private Action<Index1D, V, V, float>? _sumBackward;
    public Action<Index1D, V, V, float> SumBackward => Auto(ref _sumBackward, ReductionKernels.SumBackward);

    // ---- batch norm ----
    private Action<KernelConfig, V, V, V, V, V, int, int, int, float, float>? _bnStatistics;
    public Action<KernelConfig, V, V, V, V, V, int, int, int, float, float> BatchNormStatistics =>
        _bnStatistics ??= accelerator.LoadStreamKernel<V, V, V, V, V, int, int, int, float, float>(BatchNormKernels.Statistics);
    private Action<Index1D, V, V, float>? _bnInverseStd;
    public Action<Index1D, V, V, float> BatchNormInverseStd => Auto(ref _bnInverseStd, BatchNormKernels.InverseStd);
    private Action<Index1D, V, V, V, V, V, V, int, int>? _bnNormalize;
    public Action<Index1D, V, V, V, V, V, V, int, int> BatchNormNormalize =>
        _bnNormalize ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, V, V, int, int>(BatchNormKernels.Normalize);
    private Action<KernelConfig, V, V, V, V, V, V, V, int, int, int, int, int>? _bnGradientSums;
    public Action<KernelConfig, V, V, V, V, V, V, V, int, int, int, int, int> BatchNormGradientSums =>
        _bnGradientSums ??= accelerator.LoadStreamKernel<V, V, V, V, V, V, V, int, int, int, int, int>(BatchNormKernels.GradientSums);
    private Action<Index1D, V, V, V, V, V, V, V, int, int, int, int>? _bnInputGradient;
    public Action<Index1D, V, V, V, V, V, V, V, int, int, int, int> BatchNormInputGradient =>
        _bnInputGradient ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, V, V, V, int, int, int, int>(BatchNormKernels.InputGradient);

    // ---- layout, dropout, optimizers ----
    private Action<Index1D, V, V, int, int, int>? _concatForward, _concatBackward;
    public Action<Index1D, V, V, int, int, int> ConcatForward =>
        _concatForward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, int, int, int>(LayoutKernels.ConcatForward);
    public Action<Index1D, V, V, int, int, int> ConcatBackward =>
        _concatBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, int, int, int>(LayoutKernels.ConcatBackward);
    private Action<Index1D, V, V, V, float, float, ulong>? _dropout;
    public Action<Index1D, V, V, V, float, float, ulong> Dropout =>
        _dropout ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, float, float, ulong>(LayoutKernels.Dropout);
    private Action<Index1D, V, V, V, float, float, float>? _sgd;
    public Action<Index1D, V, V, V, float, float, float> Sgd =>
        _sgd ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, float, float, float>(OptimizerKernels.Sgd);
    private Action<Index1D, V, V, V, V, AdamArgs>? _adam;
    public Action<Index1D, V, V, V, V, AdamArgs> Adam =>
        _adam ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, V, V, V, V, AdamArgs>(OptimizerKernels.Adam);
}
