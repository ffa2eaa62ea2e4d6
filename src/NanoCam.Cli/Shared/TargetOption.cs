using System.Globalization;
using NanoCam.Explain;
using NanoCam.Explain.Targets;
using NanoCam.Imaging;

namespace NanoCam.Cli.Shared;

/// <summary>
/// <c>--target</c>: what scalar of the model's output an explanation differentiates — a class (the default: the top
/// prediction), a contrast, a probability, a region of a segmentation map, a detector's box, a similarity or one output
/// element (src/NanoCam.Explain/Targets/, one file each).
/// </summary>
public static class TargetOption
{
    /// <summary>The forms <c>--target</c> takes, as --help and errors name them.</summary>
    public const string Forms = "class:K (or K, or a class name), contrast:K,J, softmax:K, sigmoid:K, binary, binary:0, output:I, "
        + "segmentation:K[,MASK.png|.npy], box:X1,Y1,X2,Y2[,K], embedding:REF.npy, similarity:IMAGE";

    /// <summary>The names <c>--detector-layout</c> takes.</summary>
    public static readonly string[] Layouts = ["yolo", "yolo-xyxy"];

    /// <summary>The <c>--target</c> option, as explain, explain-dataset and evaluate-explanations take it.</summary>
    public static System.CommandLine.Option<string?> Make(string defaultText = "the top prediction") =>
        CliOptions.Make<string?>("--target", $"what to explain instead of a class: {Forms} (default: {defaultText})", null);

    /// <summary>The <c>--detector-layout</c> option that goes with <c>--target box:…</c>.</summary>
    public static System.CommandLine.Option<string> MakeLayout()
    {
        var option = CliOptions.Make("--detector-layout", "box targets: how the detector lays out a box, yolo ([cx, cy, w, h, objectness, classes…]) or yolo-xyxy ([x1, y1, x2, y2, objectness, classes…]), in input pixels", "yolo");
        option.Validators.Add(result => { if (result.GetValueOrDefault<string>() is { } v && !Layouts.Contains(v)) result.AddError($"--detector-layout '{v}' is not one of: {string.Join(", ", Layouts)}"); });
        return option;
    }

    /// <summary>
    /// Refuses, in one line, a method of <paramref name="methods"/> that explains one class's score (CAM, Score-CAM, …)
    /// when <paramref name="target"/> is not a class score.
    /// </summary>
    public static void CheckMethods(IEnumerable<string> methods, CamTarget target)
    {
        if (target.IsClassScore) return;
        foreach (var name in methods)
            if (MethodList.IsInputSpace(name) ? NanoCam.Explain.Methods.InputAttributions.Create(name).ReadsClassScore : NanoCam.Explain.Methods.CamMethods.Create(name).ReadsClassScore)
                throw new ArgumentException($"--target {target}: {name} explains one class's score, and this target is not one; choose other --methods");
    }

    /// <summary>
    /// The target <paramref name="text"/> names for <paramref name="input"/> [N, C, H, W] on <paramref name="loaded"/>;
    /// null text: the top prediction. Anything that does not fit the model's output is one line naming that output.
    /// </summary>
    public static CamTarget Parse(string? text, LoadedModel loaded, CamExplainer explainer, Tensor input, string layout)
    {
        if (text is null) return CamTarget.TopPrediction();
        var model = loaded.Explainable;
        var dims = model.OutputDims(input.Shape[1], input.Shape[2], input.Shape[3]);
        string shape = $"[N, {string.Join(", ", dims)}]";
        int colon = text.IndexOf(':');
        string kind = colon < 0 ? text.Trim() : text[..colon].Trim(), argument = colon < 0 ? "" : text[(colon + 1)..].Trim();
        string[] parts = argument.Split(',', StringSplitOptions.TrimEntries);

        int Index(string value, string what)
        {
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int index)) return index;
            int named = model.ClassNames?.ToList().IndexOf(value) ?? -1;
            return named >= 0 ? named : throw new ArgumentException($"--target {text}: {what} '{value}' is not a whole number{(model.ClassNames is null ? "" : " or a class name")}");
        }
        int ClassIndex(string value, string what)
        {
            int index = Index(value, what);
            return index < model.Classes ? index
                : throw new ArgumentException($"--target {text}: {what} {index} is out of range: the model's output {shape} has {model.Classes} values per image (0–{model.Classes - 1})");
        }
        // A dense output's classes by index or name: a NanoCam checkpoint's (the data set's, and background for a
        // segmentation), or an imported model's labels when there is one per class.
        int OutputClass(string value, string what, int count)
        {
            var names = model is DenseExplainable dense ? dense.OutputClassNames : model.ClassNames is { } labels && labels.Count == count ? labels : null;
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int index)) return index;
            int named = names?.ToList().IndexOf(value) ?? -1;
            if (named >= 0) return named;
            throw new ArgumentException(names is null
                ? $"--target {text}: {what} '{value}' is not a whole number (the model's output {shape} has no class names)"
                : $"--target {text}: {what} '{value}' is not an index or one of the model's classes: {string.Join(", ", names)}");
        }
        void Arity(int least, int most)
        {
            if (argument.Length == 0 && least > 0 || parts.Length < least || parts.Length > most)
                throw new ArgumentException($"--target '{text}' is not one of: {Forms}");
        }

        switch (kind)
        {
            case "class": Arity(1, 1); return CamTarget.Class(ClassIndex(parts[0], "class"));
            case "contrast": Arity(2, 2); return CamTarget.Contrast(ClassIndex(parts[0], "class"), ClassIndex(parts[1], "class"));
            case "softmax": Arity(1, 1); return CamTarget.Softmax(ClassIndex(parts[0], "class"));
            case "sigmoid": Arity(1, 1); return CamTarget.Sigmoid(ClassIndex(parts[0], "output"));
            case "output": Arity(1, 1); return CamTarget.Output(ClassIndex(parts[0], "element"));
            case "binary":
                if (model.Classes != 1) throw new ArgumentException($"--target {text}: a binary classifier has one logit; this model's output is {shape}");
                if (argument.Length == 0) return CamTarget.Binary();
                Arity(1, 1);
                return parts[0] switch
                {
                    "1" => CamTarget.Binary(),
                    "0" => CamTarget.Binary(positive: false),
                    _ => throw new ArgumentException($"--target {text}: the class of a binary classifier is 0 or 1"),
                };
            case "segmentation":
            {
                Arity(1, 2);
                if (dims.Length != 3) throw new ArgumentException($"--target {text}: segmentation needs an output [N, classes, H, W]; this model's output is {shape}");
                int k = OutputClass(parts[0], "class", dims[0]);
                if (k >= dims[0]) throw new ArgumentException($"--target {text}: class {k} is out of range: the model's output {shape} has {dims[0]} classes (0–{dims[0] - 1})");
                return CamTarget.Segmentation(k, dims, parts.Length == 2 ? ReadMask(parts[1], dims[1], dims[2], shape) : null);
            }
            case "box":
            {
                Arity(4, 5);
                if (dims.Length != 2 || dims[1] < 6) throw new ArgumentException($"--target {text}: box needs a detector's output [N, boxes, 4 + 1 + classes]; this model's output is {shape}");
                var corners = parts.Take(4).Select(v => float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && float.IsFinite(f) ? f
                    : throw new ArgumentException($"--target {text}: the box is X1,Y1,X2,Y2 in input pixels; '{v}' is not a number")).ToArray();
                if (corners[2] <= corners[0] || corners[3] <= corners[1]) throw new ArgumentException($"--target {text}: the box needs X2 > X1 and Y2 > Y1");
                int? k = null;
                if (parts.Length == 5)
                {
                    k = OutputClass(parts[4], "class", dims[1] - 5);
                    if (k >= dims[1] - 5) throw new ArgumentException($"--target {text}: class {k} is out of range: the detector's output {shape} has {dims[1] - 5} classes (0–{dims[1] - 6})");
                }
                var detectorLayout = layout switch
                {
                    "yolo" => DetectorLayout.Yolo,
                    "yolo-xyxy" => DetectorLayout.YoloCorners,
                    _ => throw new ArgumentException($"--detector-layout '{layout}' is not one of: {string.Join(", ", Layouts)}"),
                };
                return CamTarget.Box(corners[0], corners[1], corners[2], corners[3], k, dims, detectorLayout);
            }
            case "embedding":
            {
                Arity(1, 1);
                var reference = Npy.Read(PathOption.CheckReadable(parts[0], "--target embedding:")).Data;
                if (reference.Length != model.Classes)
                    throw new ArgumentException($"--target {text}: the reference has {reference.Length} values; this model's output {shape} has {model.Classes} per image");
                if (reference.Any(v => !float.IsFinite(v))) throw new ArgumentException($"--target {text}: the reference holds NaN or infinity");
                return CamTarget.Embedding(reference);
            }
            case "similarity":
            {
                Arity(1, 1);
                var (other, _) = loaded.Prepare(ImageCodec.Load(PathOption.CheckReadable(parts[0], "--target similarity:")));
                return CamTarget.Embedding(explainer.ScoresOf(other)[..model.Classes]);
            }
            default:
                // A bare class index or name, as --class takes it.
                if (colon < 0 && (int.TryParse(kind, NumberStyles.None, CultureInfo.InvariantCulture, out _) || model.ClassNames?.Contains(kind) == true))
                    return CamTarget.Class(ClassIndex(kind, "class"));
                throw new ArgumentException($"--target '{text}' is not one of: {Forms}");
        }
    }

    /// <summary>A mask for a segmentation target: a PNG (pixels brighter than half count) or a float .npy, the size of the output's maps.</summary>
    private static float[] ReadMask(string path, int height, int width, string shape)
    {
        PathOption.CheckReadable(path, "--target segmentation: mask");
        float[] mask;
        int h, w;
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var (data, dims) = Npy.Read(path);
            (h, w) = dims.Length >= 2 ? (dims[^2], dims[^1]) : (1, data.Length);
            mask = data;
        }
        else
        {
            var image = ImageCodec.Load(path);
            (h, w) = (image.Height, image.Width);
            mask = new float[h * w];
            for (int p = 0; p < mask.Length; p++)
            {
                float grey = (image.Pixels[3 * p] + image.Pixels[3 * p + 1] + image.Pixels[3 * p + 2]) / 3f;
                mask[p] = grey > 0.5f ? 1f : 0f;
            }
        }
        if (h * w != mask.Length || h != height || w != width)
            throw new ArgumentException($"--target segmentation: the mask {Path.GetFileName(path)} is {w}×{h}; the model's output {shape} has maps of {width}×{height}");
        if (mask.Any(v => !float.IsFinite(v))) throw new ArgumentException($"--target segmentation: the mask {Path.GetFileName(path)} holds NaN or infinity");
        return mask;
    }
}
