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
    // One loader per arity (the kernel's parameter types are inferred from the slot): Auto for auto-grouped kernels
    // (an Index1D per element), Grouped for kernels launched with an explicit KernelConfig.
    private Action<Index1D, T1, T2> Auto<T1, T2>(ref Action<Index1D, T1, T2>? slot, Action<Index1D, T1, T2> kernel)
        where T1 : struct where T2 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);
    private Action<Index1D, T1, T2, T3> Auto<T1, T2, T3>(ref Action<Index1D, T1, T2, T3>? slot, Action<Index1D, T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);
    private Action<Index1D, T1, T2, T3, T4> Auto<T1, T2, T3, T4>(ref Action<Index1D, T1, T2, T3, T4>? slot, Action<Index1D, T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);
    private Action<Index1D, T1, T2, T3, T4, T5> Auto<T1, T2, T3, T4, T5>(ref Action<Index1D, T1, T2, T3, T4, T5>? slot, Action<Index1D, T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);
    private Action<Index1D, T1, T2, T3, T4, T5, T6> Auto<T1, T2, T3, T4, T5, T6>(ref Action<Index1D, T1, T2, T3, T4, T5, T6>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);
    private Action<Index1D, T1, T2, T3, T4, T5, T6, T7> Auto<T1, T2, T3, T4, T5, T6, T7>(ref Action<Index1D, T1, T2, T3, T4, T5, T6, T7>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);
    private Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> Auto<T1, T2, T3, T4, T5, T6, T7, T8>(ref Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);
    private Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> Auto<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>(ref Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>? slot, Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct => slot ??= accelerator.LoadAutoGroupedStreamKernel(kernel);
    private Action<KernelConfig, T1, T2, T3, T4> Grouped<T1, T2, T3, T4>(ref Action<KernelConfig, T1, T2, T3, T4>? slot, Action<T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct => slot ??= accelerator.LoadStreamKernel(kernel);
    private Action<KernelConfig, T1, T2, T3, T4, T5> Grouped<T1, T2, T3, T4, T5>(ref Action<KernelConfig, T1, T2, T3, T4, T5>? slot, Action<T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct => slot ??= accelerator.LoadStreamKernel(kernel);
    private Action<KernelConfig, T1, T2, T3, T4, T5, T6> Grouped<T1, T2, T3, T4, T5, T6>(ref Action<KernelConfig, T1, T2, T3, T4, T5, T6>? slot, Action<T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct => slot ??= accelerator.LoadStreamKernel(kernel);
    private Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> Grouped<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(ref Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>? slot, Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct => slot ??= accelerator.LoadStreamKernel(kernel);
    private Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> Grouped<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12>(ref Action<KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12>? slot, Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct where T12 : struct => slot ??= accelerator.LoadStreamKernel(kernel);

    // ---- element-wise ----
    private Action<Index1D, V, float>? _fill;
    public Action<Index1D, V, float> Fill => Auto(ref _fill, ElementwiseKernels.Fill);
    private Action<Index1D, V, V>? _copy;
    public Action<Index1D, V, V> Copy => Auto(ref _copy, ElementwiseKernels.Copy);
    private Action<Index1D, V, V, float>? _addScaled;
    public Action<Index1D, V, V, float> AddScaled => Auto(ref _addScaled, ElementwiseKernels.AddScaled);
    private Action<Index1D, V, V, int, ActivationParams>? _activationForward;
    public Action<Index1D, V, V, int, ActivationParams> ActivationForward => Auto(ref _activationForward, ElementwiseKernels.ActivationForward);
    private Action<Index1D, V, V, V, V, int, ActivationParams>? _activationBackward;
    public Action<Index1D, V, V, V, V, int, ActivationParams> ActivationBackward => Auto(ref _activationBackward, ElementwiseKernels.ActivationBackward);
    private Action<Index1D, V, V, V, int>? _reluBackward;
    public Action<Index1D, V, V, V, int> ReluBackward => Auto(ref _reluBackward, ElementwiseKernels.ReluBackward);
    private Action<Index1D, V, V, V, int, BroadcastIndex>? _binaryForward;
    public Action<Index1D, V, V, V, int, BroadcastIndex> BinaryForward => Auto(ref _binaryForward, ElementwiseKernels.BinaryForward);
    private Action<Index1D, V, V, V, V, V, int, BroadcastIndex, BinaryTargets>? _binaryBackward;
    public Action<Index1D, V, V, V, V, V, int, BroadcastIndex, BinaryTargets> BinaryBackward => Auto(ref _binaryBackward, ElementwiseKernels.BinaryBackward);

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
    public Action<Index1D, V, V, V, V> Select => Auto(ref _select, FunctionKernels.Select);
    private Action<Index1D, V, V, V, V, int, int>? _selectBackward;
    public Action<Index1D, V, V, V, V, int, int> SelectBackward => Auto(ref _selectBackward, FunctionKernels.SelectBackward);
    private Action<Index1D, V, V, RemapIndex>? _remapForward;
    public Action<Index1D, V, V, RemapIndex> RemapForward => Auto(ref _remapForward, RemapKernels.Forward);
    private Action<Index1D, V, V, RemapIndex, int>? _remapBackward;
    public Action<Index1D, V, V, RemapIndex, int> RemapBackward => Auto(ref _remapBackward, RemapKernels.Backward);
    private Action<Index1D, V, V, int, int, int, float>? _reduceLines;
    public Action<Index1D, V, V, int, int, int, float> ReduceLines => Auto(ref _reduceLines, ReductionKernels.ReduceLines);
    private Action<KernelConfig, V, V, int, int, int, float>? _reduceLinesByGroup;
    public Action<KernelConfig, V, V, int, int, int, float> ReduceLinesByGroup => Grouped(ref _reduceLinesByGroup, ReductionKernels.ReduceLinesByGroup);
    private Action<Index1D, V, V, int, int, float>? _reduceSumBackward;
    public Action<Index1D, V, V, int, int, float> ReduceSumBackward => Auto(ref _reduceSumBackward, ReductionKernels.ReduceSumBackward);
    private Action<Index1D, V, V, V, int, int>? _tieCounts;
    public Action<Index1D, V, V, V, int, int> TieCounts => Auto(ref _tieCounts, ReductionKernels.TieCounts);
    private Action<Index1D, V, V, V, V, V, int, int>? _tiesBackward;
    public Action<Index1D, V, V, V, V, V, int, int> TiesBackward => Auto(ref _tiesBackward, ReductionKernels.TiesBackward);
    private Action<Index1D, V, V, int, int, int, int>? _argReduce;
    public Action<Index1D, V, V, int, int, int, int> ArgReduce => Auto(ref _argReduce, ReductionKernels.ArgReduce);

    // ---- convolution and GEMM ----
    private Action<KernelConfig, V, V, V, V, int, Conv2dGeometry>? _convForward;
    public Action<KernelConfig, V, V, V, V, int, Conv2dGeometry> ConvForward => Grouped(ref _convForward, ConvKernels.ForwardTiled);
    private Action<Index1D, V, V, V, V, int, Conv2dGeometry>? _convForwardDirect;
    public Action<Index1D, V, V, V, V, int, Conv2dGeometry> ConvForwardDirect => Auto(ref _convForwardDirect, ConvKernels.ForwardDirect);
    private Action<Index1D, V, V, V, GemmArgs>? _gemmDirect;
    public Action<Index1D, V, V, V, GemmArgs> GemmDirect => Auto(ref _gemmDirect, GemmKernels.Direct);
    private Action<Index1D, V, V, V, Conv2dGeometry>? _convBackwardInput;
    public Action<Index1D, V, V, V, Conv2dGeometry> ConvBackwardInput => Auto(ref _convBackwardInput, ConvKernels.BackwardInput);
    private Action<Index1D, V, V, V, Conv2dGeometry>? _convBackwardWeight;
    public Action<Index1D, V, V, V, Conv2dGeometry> ConvBackwardWeight => Auto(ref _convBackwardWeight, ConvKernels.BackwardWeight);
    private Action<Index1D, V, V, int, int, int>? _convBackwardBias;
    public Action<Index1D, V, V, int, int, int> ConvBackwardBias => Auto(ref _convBackwardBias, ConvKernels.BackwardBias);
    private Action<KernelConfig, V, V, V, GemmArgs>? _gemm;
    public Action<KernelConfig, V, V, V, GemmArgs> Gemm => Grouped(ref _gemm, GemmKernels.Tiled);

    // ---- pooling ----
    private Action<Index1D, V, V, V, PoolArgs>? _maxForward;
    public Action<Index1D, V, V, V, PoolArgs> MaxPoolForward => Auto(ref _maxForward, PoolingKernels.MaxForward);
    private Action<Index1D, V, V, V, PoolArgs>? _maxBackward;
    public Action<Index1D, V, V, V, PoolArgs> MaxPoolBackward => Auto(ref _maxBackward, PoolingKernels.MaxBackward);
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
    public Action<KernelConfig, V, V, int, int> SoftmaxForward => Grouped(ref _softmaxForward, SoftmaxKernels.Forward);
    public Action<KernelConfig, V, V, int, int> LogSoftmaxForward => Grouped(ref _logSoftmaxForward, SoftmaxKernels.LogForward);
    private Action<KernelConfig, V, V, V, int, int>? _softmaxBackward, _logSoftmaxBackward;
    public Action<KernelConfig, V, V, V, int, int> SoftmaxBackward => Grouped(ref _softmaxBackward, SoftmaxKernels.Backward);
    public Action<KernelConfig, V, V, V, int, int> LogSoftmaxBackward => Grouped(ref _logSoftmaxBackward, SoftmaxKernels.LogBackward);
    private Action<KernelConfig, V, V, ArrayView<int>, V, V, int>? _crossEntropyRows;
    public Action<KernelConfig, V, V, ArrayView<int>, V, V, int> CrossEntropyRows => Grouped(ref _crossEntropyRows, SoftmaxKernels.CrossEntropyRows);
    private Action<Index1D, V, V, V, V, int, int>? _crossEntropyBackward;
    public Action<Index1D, V, V, V, V, int, int> CrossEntropyBackward => Auto(ref _crossEntropyBackward, SoftmaxKernels.CrossEntropyBackward);
    private Action<KernelConfig, V, V, int, float>? _sum;
    public Action<KernelConfig, V, V, int, float> Sum => Grouped(ref _sum, ReductionKernels.Sum);
    private Action<Index1D, V, V, float>? _sumBackward;
    public Action<Index1D, V, V, float> SumBackward => Auto(ref _sumBackward, ReductionKernels.SumBackward);

    // ---- batch norm ----
    private Action<KernelConfig, V, V, V, V, V, int, int, int, float, float>? _bnStatistics;
    public Action<KernelConfig, V, V, V, V, V, int, int, int, float, float> BatchNormStatistics => Grouped(ref _bnStatistics, BatchNormKernels.Statistics);
    private Action<Index1D, V, V, float>? _bnInverseStd;
    public Action<Index1D, V, V, float> BatchNormInverseStd => Auto(ref _bnInverseStd, BatchNormKernels.InverseStd);
    private Action<Index1D, V, V, V, V, V, V, int, int>? _bnNormalize;
    public Action<Index1D, V, V, V, V, V, V, int, int> BatchNormNormalize => Auto(ref _bnNormalize, BatchNormKernels.Normalize);
    private Action<KernelConfig, V, V, V, V, V, V, V, int, int, int, int, int>? _bnGradientSums;
    public Action<KernelConfig, V, V, V, V, V, V, V, int, int, int, int, int> BatchNormGradientSums => Grouped(ref _bnGradientSums, BatchNormKernels.GradientSums);
    private Action<Index1D, V, V, V, V, V, V, V, int, int, int, int>? _bnInputGradient;
    public Action<Index1D, V, V, V, V, V, V, V, int, int, int, int> BatchNormInputGradient => Auto(ref _bnInputGradient, BatchNormKernels.InputGradient);

    // ---- layout, dropout, optimizers ----
    private Action<Index1D, V, V, int, int, int>? _concatForward, _concatBackward;
    public Action<Index1D, V, V, int, int, int> ConcatForward => Auto(ref _concatForward, LayoutKernels.ConcatForward);
    public Action<Index1D, V, V, int, int, int> ConcatBackward => Auto(ref _concatBackward, LayoutKernels.ConcatBackward);
    private Action<Index1D, V, V, V, float, float, ulong>? _dropout;
    public Action<Index1D, V, V, V, float, float, ulong> Dropout => Auto(ref _dropout, LayoutKernels.Dropout);
    private Action<Index1D, V, V, V, float, float, float>? _sgd;
    public Action<Index1D, V, V, V, float, float, float> Sgd => Auto(ref _sgd, OptimizerKernels.Sgd);
    private Action<Index1D, V, V, V, V, AdamArgs>? _adam;
    public Action<Index1D, V, V, V, V, AdamArgs> Adam => Auto(ref _adam, OptimizerKernels.Adam);
}
