using NanoCam.Cpu.Naive;

namespace NanoCam.Core.Tests;

/// <summary>The CPU backends every autodiff test runs on; a test takes the backend's name as its theory data.</summary>
public static class TestBackends
{
    public static TheoryData<string> Names => ["naive"];

    public static IKernels Get(string name) => name switch
    {
        "naive" => NaiveKernels.Instance,
        _ => throw new ArgumentException($"unknown backend {name}"),
    };
}
