using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using NanoCam.Onnx.Protos;

namespace NanoCam.Onnx.Tests;

/// <summary>
/// ONNX Runtime (the official NuGet) as the independent yardstick: one session over a model file, with chosen
/// intermediate tensors added to a copy of the graph's outputs in memory so that they can be compared too.
/// One intra-op thread, all graph optimizations (ONNX Runtime keeps a fused node's output when it is a graph output).
/// </summary>
internal sealed class OrtReference : IDisposable
{
    private readonly SessionOptions _options = new() { IntraOpNumThreads = 1, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
    private readonly InferenceSession _session;

    public OrtReference(string modelPath, params string[] intermediates)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        foreach (var name in intermediates)
        {
            if (model.Graph.Output.Any(o => o.Name == name)) continue;
            var type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = model.Graph.Input[0].Type.TensorType.ElemType } };
            model.Graph.Output.Add(new ValueInfoProto { Name = name, Type = type });
        }
        OutputNames = [.. model.Graph.Output.Select(o => o.Name)];
        _session = new InferenceSession(model.ToByteArray(), _options);
    }

    /// <summary>The graph outputs followed by the added intermediates.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Runs the model on one float32 input; returns every output by name.</summary>
    public Dictionary<string, float[]> Run(string inputName, float[] data, int[] dims)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(data, dims.Select(d => (long)d).ToArray());
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [inputName], [input], OutputNames.ToArray());
        var result = new Dictionary<string, float[]>();
        for (int i = 0; i < OutputNames.Count; i++) result[OutputNames[i]] = outputs[i].GetTensorDataAsSpan<float>().ToArray();
        return result;
    }

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
