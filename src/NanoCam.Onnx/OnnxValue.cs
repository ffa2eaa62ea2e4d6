namespace NanoCam.Onnx;

/// <summary>ONNX element types (TensorProto.DataType), by their code in the ONNX schema.</summary>
public enum OnnxDataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8,
    Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
    Float8E4M3FN = 17, Float8E4M3FNUZ = 18, Float8E5M2 = 19, Float8E5M2FNUZ = 20, UInt4 = 21, Int4 = 22, Float4E2M1 = 23,
}

/// <summary>The element-type families the importer treats alike.</summary>
public static class OnnxDataTypes
{
    /// <summary>Types whose values are real numbers held as float32 on the tape (narrower ones widened exactly, DOUBLE narrowed).</summary>
    public static bool IsFloatingPoint(this OnnxDataType type) => type is OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.BFloat16
        or OnnxDataType.Double or OnnxDataType.Float8E4M3FN or OnnxDataType.Float8E4M3FNUZ or OnnxDataType.Float8E5M2
        or OnnxDataType.Float8E5M2FNUZ or OnnxDataType.Float4E2M1;

    /// <summary>Integer and BOOL types (held as host longs for shape arithmetic, or as exact floats on the tape).</summary>
    public static bool IsInteger(this OnnxDataType type) => type is OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.UInt16
        or OnnxDataType.Int16 or OnnxDataType.Int32 or OnnxDataType.Int64 or OnnxDataType.UInt32 or OnnxDataType.UInt64
        or OnnxDataType.Bool or OnnxDataType.UInt4 or OnnxDataType.Int4;

    /// <summary>The upper-case ONNX spelling (FLOAT, INT64, …) used in messages.</summary>
    public static string Spelling(this OnnxDataType type) => type.ToString().ToUpperInvariant();
}

/// <summary>What an <see cref="OnnxValue"/> holds.</summary>
public enum OnnxValueKind
{
    /// <summary>A float32 tensor on the tape (real numbers, or integer/BOOL data held exactly as floats).</summary>
    Tensor,
    /// <summary>Host integers (shape vectors, indices, masks): folded shape arithmetic.</summary>
    Integers,
    /// <summary>Host strings (STRING tensors).</summary>
    Strings,
    /// <summary>An ONNX sequence of values.</summary>
    Sequence,
    /// <summary>An ONNX optional with no value.</summary>
    None,
}

/// <summary>
/// A value flowing through an ONNX graph: a float32 tensor on the tape (activations, parameters; integer data computed
/// from it, such as ArgMax, is held there too, as exact floats), host integers (INT64 shapes, indices, BOOL masks, which
/// the importer folds), host strings, a sequence, or an empty optional.
/// </summary>
public sealed class OnnxValue
{
    private int[]? _dims;

    private OnnxValue(OnnxValueKind kind, OnnxDataType type, int[]? dims, Tensor? tensor, long[]? integers, string[]? strings, IReadOnlyList<OnnxValue>? items)
    {
        Kind = kind;
        ElementType = type;
        _dims = dims;
        Tensor = tensor;
        Integers = integers;
        Strings = strings;
        Items = items;
    }

    public OnnxValueKind Kind { get; }

    /// <summary>The ONNX element type this value has in the graph (float types other than FLOAT are held as float32).</summary>
    public OnnxDataType ElementType { get; }

    /// <summary>The dimensions (a float tensor's are read from its shape on first use: most values never need them as an array).</summary>
    public int[] Dims => _dims ??= Tensor?.Shape.ToArray() ?? [];

    /// <summary>The float32 tensor, or null for host integers, strings, sequences and empty optionals.</summary>
    public Tensor? Tensor { get; }

    /// <summary>The host integer elements (row-major), or null.</summary>
    public long[]? Integers { get; }

    /// <summary>The host string elements (row-major), or null.</summary>
    public string[]? Strings { get; }

    /// <summary>The elements of a sequence, or null.</summary>
    public IReadOnlyList<OnnxValue>? Items { get; }

    public bool IsFloat => Tensor is not null;

    /// <summary>Number of elements of a tensor value.</summary>
    public int Size => Tensor?.Size ?? Integers?.Length ?? Strings?.Length ?? 0;

    /// <summary>
    /// A tensor value. The wrapper is kept with the tensor and handed out again while its type stays, so a pass that
    /// reuses its tensors (a warm tape) reuses their wrappers too and allocates none.
    /// </summary>
    public static OnnxValue FromTensor(Tensor tensor, OnnxDataType type = OnnxDataType.Float)
    {
        if (s_wrappers.TryGetValue(tensor, out var wrapper) && wrapper.ElementType == type) return wrapper;
        wrapper = new(OnnxValueKind.Tensor, type, null, tensor, null, null, null);
        s_wrappers.AddOrUpdate(tensor, wrapper);
        return wrapper;
    }

    // The newest wrapper of each tensor (weak in the tensor: it goes with it).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Tensor, OnnxValue> s_wrappers = [];

    public static OnnxValue FromIntegers(long[] values, int[] dims, OnnxDataType type = OnnxDataType.Int64)
    {
        CheckSize(values.Length, dims);
        return new(OnnxValueKind.Integers, type, (int[])dims.Clone(), null, values, null, null);
    }

    public static OnnxValue FromStrings(string[] values, int[] dims)
    {
        CheckSize(values.Length, dims);
        return new(OnnxValueKind.Strings, OnnxDataType.String, (int[])dims.Clone(), null, null, values, null);
    }

    public static OnnxValue FromSequence(IReadOnlyList<OnnxValue> items, OnnxDataType elementType) =>
        new(OnnxValueKind.Sequence, elementType, [], null, null, null, items);

    /// <summary>An optional that holds nothing.</summary>
    public static OnnxValue None(OnnxDataType elementType = OnnxDataType.Undefined) =>
        new(OnnxValueKind.None, elementType, [], null, null, null, null);

    private static void CheckSize(int count, int[] dims)
    {
        long size = 1;
        foreach (var d in dims) size *= d;
        if (size != count) throw new ArgumentException($"{count} elements do not fill shape [{string.Join(", ", dims)}]");
    }

    /// <summary>The value as a float32 host tensor (integers are converted into a new tensor).</summary>
    public Tensor AsTensor() => Tensor ?? Tensor.FromArray(ToFloatArray(), Dims);

    /// <summary>The elements as float32, copied to the host.</summary>
    public float[] ToFloatArray() => Tensor?.ToArray()
        ?? Integers?.Select(v => (float)v).ToArray()
        ?? throw new InvalidOperationException($"{this} holds no numbers");

    /// <summary>The elements as integers (a float tensor is truncated toward zero).</summary>
    public long[] ToInt64Array() => Integers
        ?? Tensor?.ToArray().Select(v => (long)v).ToArray()
        ?? throw new InvalidOperationException($"{this} holds no numbers");

    public override string ToString() => Kind switch
    {
        OnnxValueKind.Sequence => $"sequence of {Items!.Count} {ElementType.Spelling()} values",
        OnnxValueKind.None => "an empty optional",
        _ => $"{ElementType.Spelling()}[{string.Join(", ", Dims)}]",
    };
}
