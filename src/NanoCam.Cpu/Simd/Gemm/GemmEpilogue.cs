using System.Runtime.Intrinsics;

namespace NanoCam.Cpu.Simd.Gemm;

/// <summary>
/// What an inference GEMM does to each finished block of C while it is still in cache: C[i, j] = act(C[i, j] + bias[i])
/// (a convolution's bias per output channel, and the activation that follows it). ReLU, x > 0 ? x : 0 as the reference,
/// the identity and, with AVX-512, every activation <see cref="VectorActivation"/> has run in vectors (the 8×48 and
/// masked tiles apply them in registers); Sigmoid and SiLU run per element by <see cref="ConvEpilogue.Apply"/>, the
/// operator struct the unfused graph runs.
/// </summary>
public readonly unsafe struct GemmEpilogue(float* rowBias, ConvEpilogue activation)
{
    /// <summary>Bias and ReLU (or nothing) after the bias: what the tile applies in registers.</summary>
    public GemmEpilogue(float* rowBias, bool relu) : this(rowBias, relu ? ConvEpilogue.Relu : ConvEpilogue.None) { }

    public bool IsEmpty => rowBias == null && activation.IsIdentity;

    /// <summary>The activation after the bias.</summary>
    public ConvEpilogue Activation => activation;

    /// <summary>The bias of row 0 (null: none); a tile that applies the epilogue itself reads it.</summary>
    public float* RowBias => rowBias;

    /// <summary>Whether the activation is ReLU (applied in registers by the tile).</summary>
    public bool Relu => activation.Kind == EpilogueActivation.Relu;

    /// <summary>Whether an activation other than ReLU and the identity follows the bias (<see cref="Activate"/>).</summary>
    public bool HasElementwiseActivation => activation.Kind is not (EpilogueActivation.Identity or EpilogueActivation.Relu);

    /// <summary>Applies the epilogue to rows [0, rows) × columns [first, end) of C, whose row 0 is bias row <paramref name="row0"/>.</summary>
    public void Apply(float* c, int ldc, int rows, int first, int end, int row0 = 0)
    {
        if (IsEmpty || first >= end) return;
        int width = end - first;
        for (int i = 0; i < rows; i++)
        {
            float* row = c + (long)i * ldc + first;
            var bias = Vector256.Create(rowBias == null ? 0f : rowBias[row0 + i]);
            int j = 0;
            if (Relu)
            {
                // The reference's ReLU, x > 0 ? x : 0 (a NaN becomes 0): x where x > 0, else zero bits.
                for (; j + 8 <= width; j += 8)
                {
                    var v = Vector256.Load(row + j) + bias;
                    (v & Vector256.GreaterThan(v, Vector256<float>.Zero)).Store(row + j);
                }
                for (; j < width; j++)
                {
                    float v = row[j] + bias[0];
                    row[j] = v > 0 ? v : 0;
                }
            }
            else if (HasElementwiseActivation)
            {
                if (Vector512.IsHardwareAccelerated && VectorActivation.Vectorizes(activation.Kind))
                {
                    var wide = Vector512.Create(bias[0]);
                    for (; j + 16 <= width; j += 16) VectorActivation.Apply(activation, Vector512.Load(row + j) + wide).Store(row + j);
                }
                for (; j < width; j++) row[j] = activation.Apply(row[j] + bias[0]);
            }
            else
            {
                for (; j + 8 <= width; j += 8) (Vector256.Load(row + j) + bias).Store(row + j);
                for (; j < width; j++) row[j] += bias[0];
            }
        }
    }

    /// <summary>C[i, j] = act(C[i, j]) on rows [0, rows) × columns [first, end), the bias already added (after a tile that added it).</summary>
    public void Activate(float* c, int ldc, int rows, int first, int end)
    {
        if (!HasElementwiseActivation) return;
        bool wide = Vector512.IsHardwareAccelerated && VectorActivation.Vectorizes(activation.Kind);
        for (int i = 0; i < rows; i++)
        {
            float* row = c + (long)i * ldc;
            int j = first;
            if (wide) for (; j + 16 <= end; j += 16) VectorActivation.Apply(activation, Vector512.Load(row + j)).Store(row + j);
            for (; j < end; j++) row[j] = activation.Apply(row[j]);
        }
    }
}
