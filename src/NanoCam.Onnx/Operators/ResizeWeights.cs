namespace NanoCam.Onnx.Operators;

/// <summary>How an ONNX Resize weighs the input elements around a sampling position.</summary>
internal enum ResizeMode { Nearest, Linear, Cubic }

/// <summary>How an output coordinate maps back to the input (the coordinate_transformation_mode attribute).</summary>
internal enum ResizeCoordinates { HalfPixel, HalfPixelSymmetric, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNn, TfCropAndResize }

/// <summary>Which neighbour nearest mode takes (the nearest_mode attribute).</summary>
internal enum NearestRounding { RoundPreferFloor, RoundPreferCeil, Floor, Ceil }

/// <summary>The attributes of one Resize node that shape its weights, read once per node.</summary>
internal sealed record ResizeSettings(
    ResizeMode Mode,
    ResizeCoordinates Coordinates,
    NearestRounding Rounding = NearestRounding.RoundPreferFloor,
    double CubicCoefficient = -0.75,
    bool ExcludeOutside = false,
    bool Antialias = false,
    float ExtrapolationValue = 0f);

/// <summary>
/// One resized axis: <see cref="InputLength"/> elements become <see cref="OutputLength"/>. <see cref="Scale"/> is the
/// scale the coordinate formulas divide by (the given scale, or the output length over the input length when sizes were
/// given), <see cref="OutputWidth"/> the target length before rounding down (scale · input length, fractional when it
/// came from a scale), and <see cref="RoiStart"/>/<see cref="RoiEnd"/> the normalized crop of tf_crop_and_resize.
/// </summary>
internal readonly record struct ResizeAxis(int InputLength, int OutputLength, double Scale, double OutputWidth, double RoiStart = 0, double RoiEnd = 1);

/// <summary>
/// The weights of a one-dimensional ONNX Resize, y[o] = Σ_i W[o, i]·x[i] (+ the extrapolation value on rows that sample
/// outside the input under tf_crop_and_resize). A Resize is separable: the N-D operator applies one such matrix per
/// resized axis. This follows the ONNX specification (Resize-19 and its reference implementation,
/// onnx/reference/ops/op_resize.py) step by step:
/// <list type="number">
/// <item>the output coordinate o maps to x = x_original(o) by the coordinate transformation mode;</item>
/// <item>x is split as x = base + ratio with ratio in (0, 1] (an integer x takes ratio 1, so base = x − 1);</item>
/// <item>the filter gives taps coefficients c_j at the input positions base + start + j;</item>
/// <item>positions outside [0, n) read the edge element (the input is padded in "edge" mode), or get weight 0 with
/// exclude_outside, after which the coefficients are renormalized to sum to 1.</item>
/// </list>
/// </summary>
internal static class ResizeWeights
{
    /// <summary>
    /// The weights W [OutputLength, InputLength] (row-major) of one axis, and per output row whether it samples outside
    /// the input under tf_crop_and_resize (its row is then zero and the output is the extrapolation value).
    /// </summary>
    public static (float[] Matrix, bool[] Extrapolated) For(ResizeAxis axis, ResizeSettings settings)
    {
        int n = axis.InputLength, m = axis.OutputLength;
        var matrix = new double[m * n];
        var extrapolated = new bool[m];
        var (start, taps, filterScale) = Footprint(settings, axis.Scale);
        // The reference pads the input by ceil(taps / 2) edge elements and takes the taps positions nearest to x inside
        // that padded range; the window base + start … base + start + taps − 1 is that set, shifted in only where it
        // would leave the padded range.
        int pad = (taps + 1) / 2;
        var coefficients = new double[taps];
        for (int o = 0; o < m; o++)
        {
            double x = OriginalCoordinate(o, axis, settings.Coordinates);
            if (settings.Coordinates == ResizeCoordinates.TfCropAndResize && (x < 0 || x > n - 1))
            {
                // TensorFlow's CropAndResize: a sample outside the input is the extrapolation value.
                extrapolated[o] = true;
                continue;
            }
            double floor = Math.Floor(x);
            double baseIndex = x == floor ? x - 1 : floor;
            double ratio = x - baseIndex;
            Coefficients(settings, ratio, filterScale, start, coefficients);
            long first = Math.Clamp((long)baseIndex + start, -pad, (long)n + pad - taps);
            if (settings.ExcludeOutside) ExcludeOutside(coefficients, first, n);
            for (int j = 0; j < taps; j++)
                matrix[o * n + (int)Math.Clamp(first + j, 0, n - 1)] += coefficients[j];
        }
        return (Array.ConvertAll(matrix, w => (float)w), extrapolated);
    }

    /// <summary>
    /// The filter's taps and where they start relative to base: nearest and linear read base and base + 1, cubic base − 1
    /// … base + 2. With antialias a linear or cubic filter downscaling by s &lt; 1 is stretched by 1/s (its support radius
    /// r becomes r/s), so start = ⌊−r/s⌋ + 1 and taps = 2 − 2·start (ONNX Resize-18 antialias).
    /// </summary>
    private static (int Start, int Taps, double FilterScale) Footprint(ResizeSettings settings, double scale)
    {
        if (settings.Mode == ResizeMode.Nearest) return (0, 2, 1);
        double radius = settings.Mode == ResizeMode.Linear ? 1 : 2;
        double filterScale = settings.Antialias ? Math.Min(scale, 1) : 1;
        int start = (int)Math.Floor(-radius / filterScale) + 1;
        return (start, 2 - 2 * start, filterScale);
    }

    /// <summary>The coefficient of tap j (at position base + start + j) for a sample at base + ratio.</summary>
    private static void Coefficients(ResizeSettings settings, double ratio, double filterScale, int start, double[] coefficients)
    {
        if (settings.Mode == ResizeMode.Nearest)
        {
            bool upper = ratio == 1 || settings.Rounding switch
            {
                NearestRounding.RoundPreferFloor => ratio > 0.5,
                NearestRounding.RoundPreferCeil => ratio >= 0.5,
                NearestRounding.Floor => false,
                _ => true,
            };
            coefficients[0] = upper ? 0 : 1;
            coefficients[1] = upper ? 1 : 0;
            return;
        }
        double sum = 0;
        for (int j = 0; j < coefficients.Length; j++)
        {
            // The distance from the sample to the tap, in filter units (stretched by 1/s under antialias).
            double d = filterScale * (start + j - ratio);
            coefficients[j] = settings.Mode == ResizeMode.Linear ? Math.Max(0, 1 - Math.Abs(d)) : Cubic(d, settings.CubicCoefficient);
            sum += coefficients[j];
        }
        // A stretched filter no longer sums to 1 over the taps: the reference divides by the sum.
        if (settings.Antialias)
            for (int j = 0; j < coefficients.Length; j++) coefficients[j] /= sum;
    }

    /// <summary>
    /// Keys' cubic convolution kernel with parameter A (Keys 1981, eq. 4; A = −0.75 as PyTorch, −0.5 as TensorFlow):
    /// (A + 2)|d|³ − (A + 3)|d|² + 1 for |d| ≤ 1, A|d|³ − 5A|d|² + 8A|d| − 4A for 1 &lt; |d| &lt; 2, else 0.
    /// </summary>
    public static double Cubic(double d, double a)
    {
        d = Math.Abs(d);
        if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
        if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
        return 0;
    }

    /// <summary>exclude_outside: taps outside [0, n) weigh 0 and the rest are renormalized to sum to 1 (left as they are if none is inside).</summary>
    private static void ExcludeOutside(double[] coefficients, long first, int n)
    {
        double sum = 0;
        for (int j = 0; j < coefficients.Length; j++)
        {
            if (first + j < 0 || first + j >= n) coefficients[j] = 0;
            sum += coefficients[j];
        }
        if (sum == 0) return;
        for (int j = 0; j < coefficients.Length; j++) coefficients[j] /= sum;
    }

    /// <summary>
    /// x_original for output coordinate o (ONNX Resize-19, coordinate_transformation_mode), with scale s, input length n,
    /// output length m and fractional target length w = s·n:
    /// half_pixel (o + ½)/s − ½; half_pixel_symmetric adds n/2·(1 − m/w); pytorch_half_pixel is half_pixel when m &gt; 1,
    /// else 0; align_corners o·(n − 1)/(w − 1); asymmetric o/s; tf_half_pixel_for_nn (o + ½)/s (opsets 11–12);
    /// tf_crop_and_resize start·(n − 1) + o·(end − start)·(n − 1)/(w − 1) when m &gt; 1, else ½(start + end)·(n − 1).
    /// </summary>
    public static double OriginalCoordinate(int o, ResizeAxis axis, ResizeCoordinates mode)
    {
        double s = axis.Scale, n = axis.InputLength, w = axis.OutputWidth;
        return mode switch
        {
            ResizeCoordinates.HalfPixel => (o + 0.5) / s - 0.5,
            ResizeCoordinates.HalfPixelSymmetric => n / 2 * (1 - axis.OutputLength / w) + (o + 0.5) / s - 0.5,
            ResizeCoordinates.PytorchHalfPixel => axis.OutputLength > 1 ? (o + 0.5) / s - 0.5 : 0,
            ResizeCoordinates.AlignCorners => w == 1 ? 0 : o * (n - 1) / (w - 1),
            ResizeCoordinates.Asymmetric => o / s,
            ResizeCoordinates.TfHalfPixelForNn => (o + 0.5) / s,
            ResizeCoordinates.TfCropAndResize => axis.OutputLength > 1
                ? axis.RoiStart * (n - 1) + o * (axis.RoiEnd - axis.RoiStart) * (n - 1) / (w - 1)
                : 0.5 * (axis.RoiStart + axis.RoiEnd) * (n - 1),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
    }
}
