using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>Pinned scratch for packed A and B blocks; grown on demand and then reused, so steady GEMMs allocate nothing.</summary>
public sealed unsafe class GemmWorkspace
{
    private float[] _packedA = [];
    private float[] _packedB = [];

    public float* PackedA(int length) => Ensure(ref _packedA, length);
    public float* PackedB(int length) => Ensure(ref _packedB, length);

    private static float* Ensure(ref float[] buffer, int length)
    {
        if (buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
    }
}
