using Microsoft.ML.OnnxRuntime;

namespace NanoCam.Benchmarks.Onnx;

/// <summary>
/// An ONNX Runtime session over a one-node model with every input and the output bound once to pinned host arrays
/// (IOBinding), so <see cref="Run"/> measures the operator, not tensor marshalling. Threads counts the caller, as
/// NanoCam's SimdKernels does: IntraOpNumThreads = threads, InterOpNumThreads = 1, sequential execution.
/// </summary>
public sealed class OrtSingleNode : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtIoBinding _binding;
    private readonly List<OrtValue> _values = [];

    /// <param name="inputs">Graph input name, its data (kept pinned by ONNX Runtime) and its shape.</param>
    /// <param name="output">The graph output and the array it is written into on every run.</param>
    public OrtSingleNode(byte[] model, int threads, (string Name, float[] Data, long[] Shape)[] inputs, (string Name, float[] Data, long[] Shape) output)
    {
        _options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(model, _options);
        _binding = _session.CreateIoBinding();
        foreach (var (name, data, shape) in inputs) _binding.BindInput(name, Pin(data, shape));
        _binding.BindOutput(output.Name, Pin(output.Data, output.Shape));
        _binding.SynchronizeBoundInputs();
    }

    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    public void Dispose()
    {
        _binding.Dispose();
        foreach (var value in _values) value.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }

    private OrtValue Pin(float[] data, long[] shape)
    {
        var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        _values.Add(value);
        return value;
    }
}
