using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NanoCam.Elementwise;

namespace NanoCam.Gpu.Tests;

/// <summary>
/// Compiles the generic kernels for every operator struct of NanoCam.Elementwise, and the remap, axis-reduction and
/// select kernels, to PTX with ILGPU's CUDA backend (sm_70; no GPU needed): ILGPU's CPU accelerator runs kernels as
/// plain .NET code, so a function an NVIDIA GPU cannot run (a System.Half cast, a Math method ILGPU does not map) would
/// pass every CPU test and fail only on the device. Here it fails first.
/// </summary>
public class PtxCompilationTests
{
    private static readonly Lazy<(Context Context, PTXBackend Backend)> Ptx = new(() =>
    {
        var context = Context.Create(builder => builder.EnableAlgorithms());
        return (context, new PTXBackend(context, CudaArchitecture.SM_70, CudaInstructionSet.ISA_70, null!));
    });

    private static readonly Assembly Gpu = typeof(IlgpuKernels).Assembly;

    private static MethodInfo Kernel(string type, string name) =>
        Gpu.GetType($"NanoCam.Gpu.Kernels.{type}", throwOnError: true)!.GetMethod(name, BindingFlags.Public | BindingFlags.Static)
        ?? throw new InvalidOperationException($"no kernel {type}.{name}");

    private static string Compile(MethodInfo kernel, bool explicitlyGrouped = false)
    {
        var entry = explicitlyGrouped ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel) : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
        lock (Ptx)
            return ((PTXCompiledKernel)Ptx.Value.Backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
    }

    private static IEnumerable<Type> Structs<T>() =>
        typeof(IUnaryFunction).Assembly.GetTypes().Where(t => t.IsValueType && t.IsPublic && typeof(T).IsAssignableFrom(t)).OrderBy(t => t.Name);

    public static TheoryData<string> UnaryFunctions => [.. Structs<IUnaryFunction>().Select(t => t.Name)];
    public static TheoryData<string> BinaryFunctions => [.. Structs<IBinaryFunction>().Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(UnaryFunctions))]
    public void UnaryKernels_CompileToPtx(string name)
    {
        var op = Structs<IUnaryFunction>().Single(t => t.Name == name);
        foreach (var kernel in new[] { "Unary", "UnaryBackward" })
            Assert.Contains(".entry", Compile(Kernel("FunctionKernels", kernel).MakeGenericMethod(op)));
    }

    [Theory]
    [MemberData(nameof(BinaryFunctions))]
    public void BinaryKernels_CompileToPtx(string name)
    {
        var op = Structs<IBinaryFunction>().Single(t => t.Name == name);
        foreach (var kernel in new[] { "Binary", "BinaryBackward" })
            Assert.Contains(".entry", Compile(Kernel("FunctionKernels", kernel).MakeGenericMethod(op)));
    }

    [Fact]
    public void RemapReductionAndSelectKernels_CompileToPtx()
    {
        foreach (var (type, name) in new[]
                 {
                     ("RemapKernels", "Forward"), ("RemapKernels", "Backward"), ("ReductionKernels", "ReduceLines"),
                     ("ReductionKernels", "ReduceSumBackward"), ("ReductionKernels", "TieCounts"), ("ReductionKernels", "TiesBackward"),
                     ("ReductionKernels", "ArgReduce"), ("FunctionKernels", "Select"), ("FunctionKernels", "SelectBackward"),
                 })
            Assert.Contains(".entry", Compile(Kernel(type, name)));
        Assert.Contains(".entry", Compile(Kernel("ReductionKernels", "ReduceLinesByGroup"), explicitlyGrouped: true));
    }

    /// <summary>A function ILGPU cannot compile for a GPU: a cast through System.Half (its conversion is managed code ILGPU rejects).</summary>
    public readonly struct HalfCast : IUnaryFunction
    {
        public string Name => "HalfCast";
        public float Value(float x) => (float)(System.Half)x;
        public float Derivative(float x, float y) => 1f;
    }

    [Fact]
    public void ACastThroughSystemHalf_FailsToCompile_WhichIsWhyRoundToHalfIsArithmetic()
    {
        Assert.ThrowsAny<Exception>(() => Compile(Kernel("FunctionKernels", "Unary").MakeGenericMethod(typeof(HalfCast))));
        Assert.Contains(".entry", Compile(Kernel("FunctionKernels", "Unary").MakeGenericMethod(typeof(RoundToHalf))));
    }
}
