namespace NanoCam.Onnx;

/// <summary>
/// The 8-bit and 4-bit float formats of ONNX (FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT4E2M1):
/// a sign bit, <see cref="ExponentBits"/> exponent bits with <see cref="Bias"/>, <see cref="MantissaBits"/> mantissa bits
/// and subnormals. They differ in their special values: E5M2 has IEEE infinities and NaNs; E4M3FN has no infinity and
/// one NaN mantissa (all ones) per sign; the FNUZ formats have neither infinity nor negative zero, and their only NaN is
/// the negative-zero code 0x80; E2M1 has no special value at all.
/// </summary>
public sealed record MinifloatFormat(OnnxDataType Type, int ExponentBits, int MantissaBits, int Bias, float MaxFinite)
{
    public static readonly MinifloatFormat E4M3FN = new(OnnxDataType.Float8E4M3FN, 4, 3, 7, 448f);
    public static readonly MinifloatFormat E4M3FNUZ = new(OnnxDataType.Float8E4M3FNUZ, 4, 3, 8, 240f);
    public static readonly MinifloatFormat E5M2 = new(OnnxDataType.Float8E5M2, 5, 2, 15, 57344f);
    public static readonly MinifloatFormat E5M2FNUZ = new(OnnxDataType.Float8E5M2FNUZ, 5, 2, 16, 57344f);
    public static readonly MinifloatFormat E2M1 = new(OnnxDataType.Float4E2M1, 2, 1, 1, 6f);

    public static MinifloatFormat Of(OnnxDataType type) => type switch
    {
        OnnxDataType.Float8E4M3FN => E4M3FN,
        OnnxDataType.Float8E4M3FNUZ => E4M3FNUZ,
        OnnxDataType.Float8E5M2 => E5M2,
        OnnxDataType.Float8E5M2FNUZ => E5M2FNUZ,
        OnnxDataType.Float4E2M1 => E2M1,
        _ => throw new ArgumentException($"{type.Spelling()} is not an 8- or 4-bit float type"),
    };

    private bool Fnuz => Type is OnnxDataType.Float8E4M3FNUZ or OnnxDataType.Float8E5M2FNUZ;
    private int SignBit => 1 << (ExponentBits + MantissaBits);

    /// <summary>The value of one code (the low 8 or 4 bits of <paramref name="code"/>).</summary>
    public float Decode(int code)
    {
        int exponentMask = (1 << ExponentBits) - 1, mantissaMask = (1 << MantissaBits) - 1;
        bool negative = (code & SignBit) != 0;
        int exponent = (code >> MantissaBits) & exponentMask, mantissa = code & mantissaMask;
        if (Fnuz && code == SignBit) return float.NaN;
        if (Type == OnnxDataType.Float8E4M3FN && exponent == exponentMask && mantissa == mantissaMask) return float.NaN;
        if (Type == OnnxDataType.Float8E5M2 && exponent == exponentMask)
            return mantissa != 0 ? float.NaN : negative ? float.NegativeInfinity : float.PositiveInfinity;
        // value = 2^(e − bias)·(1 + m/2^M), or 2^(1 − bias)·(m/2^M) for a subnormal (e = 0).
        float magnitude = exponent == 0
            ? MathF.ScaleB(mantissa, 1 - Bias - MantissaBits)
            : MathF.ScaleB(mantissa + (1 << MantissaBits), exponent - Bias - MantissaBits);
        return negative ? -magnitude : magnitude;
    }

    /// <summary>
    /// <paramref name="x"/> rounded to the nearest value of the format, ties to even (ONNX Cast). With
    /// <paramref name="saturate"/> (the default) values beyond the largest finite one, infinities included, become ±max;
    /// without, they become NaN (or ±∞ in E5M2). NaN stays NaN; in E2M1, which has none, it becomes −0 as ONNX's reference does.
    /// </summary>
    public float Round(float x, bool saturate) => new RoundToMinifloat(this, saturate).Value(x);
}

/// <summary>
/// Rounding to an ONNX 8- or 4-bit float format as an operator struct (a Cast on the tape; its derivative is 1, a
/// straight-through estimate like PyTorch's for casts). Value fields only, so that every backend's kernel can run it.
/// </summary>
public readonly struct RoundToMinifloat : Elementwise.IUnaryFunction
{
    private readonly int _mantissaBits, _bias, _type;
    private readonly float _maxFinite;
    private readonly bool _saturate;

    public RoundToMinifloat(MinifloatFormat format, bool saturate)
    {
        (_mantissaBits, _bias, _maxFinite, _type, _saturate) = (format.MantissaBits, format.Bias, format.MaxFinite, (int)format.Type, saturate);
    }

    public string Name => "Cast";

    public float Value(float x)
    {
        bool noSpecials = _type == (int)OnnxDataType.Float4E2M1, hasInfinity = _type == (int)OnnxDataType.Float8E5M2;
        bool fnuz = _type is (int)OnnxDataType.Float8E4M3FNUZ or (int)OnnxDataType.Float8E5M2FNUZ;
        if (float.IsNaN(x)) return noSpecials ? -0f : float.NaN;
        float magnitude = MathF.Abs(x);
        float sign = x < 0 || (x == 0 && float.IsNegative(x)) ? -1f : 1f;
        if (float.IsInfinity(x)) return _saturate || noSpecials ? sign * _maxFinite : hasInfinity ? x : float.NaN;
        if (magnitude == 0) return fnuz ? 0f : x;
        // The spacing of representable values at this magnitude: 2^(e − M) for normal numbers, 2^(1 − bias − M) below.
        int exponent = Math.Max(MathF.ILogB(magnitude), 1 - _bias);
        float step = MathF.ScaleB(1f, exponent - _mantissaBits);
        float rounded = MathF.Round(magnitude / step, MidpointRounding.ToEven) * step;
        if (rounded > _maxFinite)
        {
            if (_saturate || noSpecials) rounded = _maxFinite;
            else return hasInfinity ? sign * float.PositiveInfinity : float.NaN;
        }
        // The FNUZ formats have no negative zero.
        if (rounded == 0 && fnuz) return 0f;
        return sign * rounded;
    }

    public float Derivative(float x, float y) => 1f;
}
