using System.Reflection;

namespace NanoCam.Onnx.Planning;

/// <summary>
/// A kernel set that computes nothing: tensors it allocates have a shape and no elements, and every kernel returns at
/// once. Running the tape ops of a graph on it yields every tensor's shape for the price of the shape checks, which is
/// how the importer folds a graph for one input shape without running the network. Reading a shape-only tensor's values
/// fails: an operator that needs values on the host must take them from known inputs (constants), never from data.
/// A <see cref="DispatchProxy"/>, so that every kernel the interface gains is covered without a line here.
/// </summary>
public class ShapeOnlyKernels : DispatchProxy
{
    /// <summary>The one shape-only kernel set (it holds no state).</summary>
    public static IKernels Instance { get; } = Create<IKernels, ShapeOnlyKernels>();

    /// <summary>Whether <paramref name="tensor"/> is shape-only (allocated here).</summary>
    public static bool IsShapeOnly(Tensor tensor) => tensor.Buffer is ShapeOnlyBuffer;

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        switch (method!.Name)
        {
            case "get_Name": return "shape-only";
            case nameof(IKernels.Allocate): return new Tensor((Shape)args![0]!, new ShapeOnlyBuffer(((Shape)args[0]!).Size));
            default:
                // Kernels write their outputs and return nothing; PrepareConv2dWeight has nothing to prepare.
                return method.ReturnType.IsValueType && method.ReturnType != typeof(void) ? Activator.CreateInstance(method.ReturnType) : null;
        }
    }

    /// <summary>The storage of a shape-only tensor: a length and no elements.</summary>
    private sealed class ShapeOnlyBuffer(int length) : TensorBuffer
    {
        public override int Length => length;

        public override void CopyTo(Span<float> destination) =>
            throw new InvalidOperationException("a shape-only tensor (computed while folding the graph) has no values: an operator read data on the host");

        public override void CopyFrom(ReadOnlySpan<float> source) { }
    }
}
