namespace NanoCam.Onnx;

/// <summary>ONNX element types (TensorProto.DataType), by their code in the ONNX schema.</summary>
public enum OnnxDataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8,
    Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
}

/// <summary>
/// A value flowing through an ONNX graph: either a float32 tensor on the tape (activations, parameters), or a small
/// host array of integers (INT64 shapes, indices, BOOL masks) that the importer folds as constants.
/// </summary>
public sealed class OnnxValue
{
    private int[]? _dims;

    private OnnxValue(OnnxDataType type, int[]? dims, Tensor? tensor, long[]? integers)
    {
        ElementType = type;
        _dims = dims;
        Tensor = tensor;
        Integers = integers;
    }

    /// <summary>The ONNX element type this value had in the file (FLOAT16 and DOUBLE are held widened/narrowed as float32).</summary>
    public OnnxDataType ElementType { get; }

    /// <summary>The dimensions (a float tensor's are read from its shape on first use: most values never need them as an array).</summary>
    public int[] Dims => _dims ??= Tensor!.Shape.ToArray();

    /// <summary>The float32 tensor, or null for an integer value.</summary>
    public Tensor? Tensor { get; }

    /// <summary>The integer elements (row-major), or null for a float value.</summary>
    public long[]? Integers { get; }

    public bool IsFloat => Tensor is not null;

    public int Size => Tensor?.Size ?? Integers!.Length;

    public static OnnxValue FromTensor(Tensor tensor, OnnxDataType type = OnnxDataType.Float) =>
        new(type, null, tensor, null);

    public static OnnxValue FromIntegers(long[] values, int[] dims, OnnxDataType type = OnnxDataType.Int64)
    {
        long size = 1;
        foreach (var d in dims) size *= d;
        if (size != values.Length) throw new ArgumentException($"{values.Length} integers do not fill shape [{string.Join(", ", dims)}]");
        return new(type, (int[])dims.Clone(), null, values);
    }

    /// <summary>The value as a float32 tensor (integers are converted into a new host tensor).</summary>
    public Tensor AsTensor() => Tensor ?? Tensor.FromArray(Integers!.Select(v => (float)v).ToArray(), Dims);

    /// <summary>The elements as float32, copied to the host.</summary>
    public float[] ToFloatArray() => Tensor?.ToArray() ?? Integers!.Select(v => (float)v).ToArray();

    /// <summary>The elements as integers (a float tensor is truncated toward zero).</summary>
    public long[] ToInt64Array() => Integers ?? Tensor!.ToArray().Select(v => (long)v).ToArray();

    public override string ToString() => $"{ElementType.ToString().ToUpperInvariant()}[{string.Join(", ", Dims)}]";
}
