using System.Text;
using NanoCam.Explain;
using NanoCam.Imaging;
using static NanoCam.Cli.Shared.WalkthroughFigures;

namespace NanoCam.Cli.Shared;

/// <summary>
/// The walk-through page: one self-contained HTML document that shows a CAM or Grad-CAM explanation in the order of
/// the math — input, A^k, weights, weighted sum before and after ReLU, upsampling, overlay, and on a GAP network
/// CAM beside Grad-CAM and the class score rebuilt from the maps. Every number comes from the <see cref="WalkthroughResult"/>.
/// </summary>
public static class WalkthroughPage
{
    /// <summary>Channels shown as heat maps: the largest weights, then the most negative ones.</summary>
    public const int PositiveChannelsShown = 8, NegativeChannelsShown = 4;

    /// <summary>Rows of the score table: the largest contributions |w_k^c·F^k|.</summary>
    public const int ContributionsShown = 10;

    /// <summary>The page for <paramref name="walk"/>; <paramref name="shown"/> is the image as the model sees it, <paramref name="inputShape"/> its tensor's shape.</summary>
    /// <param name="fosterLambda">λ of CAM fostering the network was trained with (its checkpoint's <c>foster_cam</c>), or null.</param>
    public static HtmlPage Build(WalkthroughResult walk, RgbImage shown, Shape inputShape, IReadOnlyList<string>? classNames, string modelName, string imageName, ColorMap colors,
        float? fosterLambda = null)
    {
        bool cam = walk.Method == "cam";
        string className = ClassLabels.NameSuffix(walk.Class, classNames);
        var page = new HtmlPage($"{(cam ? "CAM" : "Grad-CAM")} step by step: {ClassLabels.Describe(walk.Class, classNames)}");
        page.AddStyle(Css);
        page.AddHtml($"<p class=\"lead\">Model <code>{HtmlPage.Escape(modelName)}</code>, image <code>{HtmlPage.Escape(imageName)}</code>, " +
            $"class <i>c</i> = {walk.Class}{HtmlPage.Escape(className)}, target layer <code>{HtmlPage.Escape(walk.Layer)}</code>. " +
            $"The network's score for this class (before softmax) is <i>y<sup>c</sup></i> = {Number(walk.NetworkScore)}. " +
            "Each step below prints the numbers the engine computed; the source file that computes them is named beside it.</p>");
        foreach (var warning in walk.Warnings) page.AddHtml($"<p class=\"warn\">warning: {HtmlPage.Escape(warning)}</p>");

        Input(page, shown, inputShape);
        var order = walk.ChannelsByWeight();
        FeatureMaps(page, walk, order, colors);
        Weights(page, walk, order);
        WeightedSum(page, walk);
        Upsampling(page, walk, colors);
        OverlaySection(page, walk, shown, colors);
        if (walk.Comparison is { } comparison) CamBesideGradCam(page, walk, comparison, colors);
        if (walk.Score is { } score) ClassScore(page, walk, score);
        int next = walk.Score is null ? 7 : 9;
        if (walk.Attention is { } attention) AttentionMap(page, next++, attention, shown, colors);
        Fostering(page, next, walk, fosterLambda);
        return page;
    }

    /// <summary>An Attention Branch Network's map M(x) at its own resolution and over the image, with the gate it drives.</summary>
    private static void AttentionMap(HtmlPage page, int number, CamResult attention, RgbImage shown, ColorMap colors)
    {
        var capture = attention.Capture;
        var m = capture.ActivationPlane(0, 0);
        var (min, max) = Range(m);
        double mean = 0;
        foreach (var v in m) mean += v;
        mean /= m.Length;
        page.AddHeading($"{number}. The attention branch's map M(x)");
        page.AddHtml("<p class=\"eq\"><i>g</i>′(<i>x</i>) = (1 + <i>M</i>(<i>x</i>)) · <i>g</i>(<i>x</i>), &nbsp; <i>M</i>(<i>x</i>) = σ(BN(conv<sub>1×1</sub>(class maps))) ∈ (0, 1)</p>" +
            "<p>This network is an Attention Branch Network (Fukui et al., CVPR 2019, eq. 2): its attention branch turns the features <i>g</i>(<i>x</i>) into " +
            "one map <i>M</i>, and the perception branch classifies from the features <i>gated</i> by it — where <i>M</i> is near 1 a feature counts twice, " +
            "where it is near 0 once. <i>M</i> is the same for every class: it is what the network itself chose to look at. " +
            $"Here <i>M</i> is {capture.Width}×{capture.Height}, its values in [{Short(min)}, {Short(max)}], mean {Short((float)mean)}. " +
            "<span class=\"src\"><code>AttentionBranchNetwork.Gate</code>, src/NanoCam.Nn/Models/AttentionBranchNetwork.cs; " +
            "<code>AbnAttention</code>, src/NanoCam.Explain/Methods/AbnAttention.cs</span></p>");
        var blended = Overlay.Blend(shown, attention.NormalizedOf(0).ToArray(), attention.InputWidth, attention.InputHeight, colors);
        page.AddHtml("<div class=\"row\">" +
            Figure(Heat(m, capture.Width, capture.Height, 0f, 1f, colors), Scale(capture.Width, 192), $"M(x), {capture.Width}×{capture.Height}", "colour scale [0, 1]") +
            Figure(blended, Scale(shown.Width, 192), "M(x) over the image", "min–max scaled") + "</div>");
    }

    /// <summary>CAM fostering's entropy term for this image and class, and λ·H when the network was trained with fostering.</summary>
    private static void Fostering(HtmlPage page, int number, WalkthroughResult walk, float? lambda)
    {
        double h = walk.FosteringEntropy, flat = Math.Log(walk.Z);
        page.AddHeading($"{number}. CAM fostering's term for this image");
        page.AddHtml("<p class=\"eq\"><i>p</i>(<i>x</i>, <i>y</i>) = ReLU(<i>M<sub>c</sub></i>)(<i>x</i>, <i>y</i>) / Σ ReLU(<i>M<sub>c</sub></i>), &nbsp; " +
            "<i>H</i> = −Σ<sub><i>x</i>,<i>y</i></sub> <i>p</i> log <i>p</i>, &nbsp; loss = cross-entropy + λ · mean<sub>batch</sub> <i>H</i></p>" +
            "<p>Training with <code>--foster-cam λ</code> (Schöttl 2020) adds the entropy of the normalised map to the loss, so the network learns maps " +
            "that put their mass on few positions. For this image and class <i>c</i>: " +
            $"<i>H</i> = <span class=\"fostering-entropy\">{Number(h)}</span> nats, between 0 (all mass on one position) and log <i>Z</i> = {Number(flat)} (a flat map)" +
            (lambda is { } l ? $"; this network was trained with λ = {Number(l)}, so the term adds λ·<i>H</i> = <span class=\"fostering-term\">{Number(l * h)}</span> to this image's loss." : "; this network was trained without fostering (λ = 0).") +
            " <span class=\"src\"><code>CamWalkthrough.FosteringEntropyOf</code>, src/NanoCam.Explain/CamWalkthrough.cs; the training term: " +
            "<code>CamFostering.MeanEntropy</code>, src/NanoCam.Nn/Training/CamFostering.cs</span></p>");
    }

    private static string Weight(bool cam) => cam ? "<i>w<sub>k</sub><sup>c</sup></i>" : "<i>α<sub>k</sub><sup>c</sup></i>";

    /// <summary>Positions in the weight-sorted channel order that the page shows as maps: the first ones and the last ones.</summary>
    public static int[] ShownPositions(int channels) =>
        [.. Enumerable.Range(0, channels).Where(i => i < PositiveChannelsShown || i >= Math.Max(PositiveChannelsShown, channels - NegativeChannelsShown))];

    private static void Input(HtmlPage page, RgbImage shown, Shape inputShape)
    {
        page.AddHtml("<h2>1. The input <i>x</i></h2>");
        page.AddHtml($"<p>The image as the network sees it, {shown.Width}×{shown.Height} pixels; it enters the network as a tensor of shape " +
            $"{inputShape} after the model's preprocessing (resizing, scaling, mean and standard deviation).</p>");
        page.AddHtml($"<div class=\"row\">{Figure(shown, Scale(shown.Width, 192), "input x")}</div>");
    }

    private static void FeatureMaps(HtmlPage page, WalkthroughResult walk, int[] order, ColorMap colors)
    {
        page.AddHtml("<h2>2. Feature maps <i>A<sup>k</sup></i> at the target layer</h2>");
        page.AddHtml($"<p>A forward pass stops at <code>{HtmlPage.Escape(walk.Layer)}</code>: <i>K</i> = {walk.Channels} channels, each a " +
            $"{walk.Height}×{walk.Width} map <i>A<sup>k</sup></i> (so <i>Z</i> = <i>h</i>·<i>w</i> = {walk.Z} positions). Shown: the " +
            $"{PositiveChannelsShown} channels with the largest weight {Weight(walk.Method == "cam")} and the {NegativeChannelsShown} with the most negative one. " +
            "Each map is coloured over its own range (printed under it), blue = its minimum, red = its maximum. " +
            "<span class=\"src\">Captured by <code>CamExplainer.Capture</code> in src/NanoCam.Explain/CamExplainer.cs.</span></p>");
        int scale = Scale(walk.Width, 96);
        var positions = ShownPositions(order.Length);
        foreach (var (label, group) in new[]
        {
            ("largest weights: these channels raise the score where they are active", positions.Where(i => i < PositiveChannelsShown)),
            ("most negative weights: these channels lower it", positions.Where(i => i >= PositiveChannelsShown)),
        })
        {
            var figures = new StringBuilder($"<p class=\"group\">{HtmlPage.Escape(label)}</p><div class=\"row\">");
            foreach (int k in group.Select(i => order[i]))
            {
                var a = walk.Activation(k);
                var (min, max) = Range(a);
                figures.Append(Figure(Heat(a, walk.Width, walk.Height, colors), scale, $"k = {k}", $"{(walk.Method == "cam" ? "w" : "α")} = {Short(walk.Weights[k])}", $"A ∈ [{Short(min)}, {Short(max)}]"));
            }
            page.AddHtml(figures.Append("</div>").ToString());
        }
    }

    private static void Weights(HtmlPage page, WalkthroughResult walk, int[] order)
    {
        bool cam = walk.Method == "cam";
        page.AddHtml($"<h2>3. Channel weights {Weight(cam)} ({(cam ? "CAM" : "Grad-CAM")})</h2>");
        var sorted = order.Select(k => walk.Weights[k]).ToArray();
        var highlighted = new HashSet<int>(ShownPositions(sorted.Length));
        string formula = cam
            ? "<p class=\"eq\"><i>w<sub>k</sub><sup>c</sup></i> = the weight of the fully connected layer that maps the pooled channel <i>k</i> to class <i>c</i></p>" +
              "<p class=\"eq\"><i>y<sup>c</sup></i> = Σ<sub>k</sub> <i>w<sub>k</sub><sup>c</sup></i> <i>F<sup>k</sup></i> + <i>b<sub>c</sub></i>, &nbsp; <i>F<sup>k</sup></i> = (1/<i>Z</i>) Σ<sub>i,j</sub> <i>A<sup>k</sup><sub>ij</sub></i></p>" +
              "<p>(Zhou et al., CVPR 2016, eq. 1–2). No gradient is needed: the weights are read from the classifier. " +
              "<span class=\"src\"><code>Cam.ChannelWeights</code>, src/NanoCam.Explain/Methods/Cam.cs</span></p>"
            : "<p class=\"eq\"><i>α<sub>k</sub><sup>c</sup></i> = (1/<i>Z</i>) Σ<sub>i</sub> Σ<sub>j</sub> ∂<i>y<sup>c</sup></i> / ∂<i>A<sup>k</sup><sub>ij</sub></i></p>" +
              "<p>(Selvaraju et al., ICCV 2017, eq. 1): one backward pass from <i>y<sup>c</sup></i> gives the gradient at every position of every channel; " +
              "its spatial average is the weight of the channel. " +
              "<span class=\"src\"><code>GradCam.ChannelWeights</code>, src/NanoCam.Explain/Methods/GradCam.cs</span></p>";
        var (min, max) = Range(walk.Weights);
        page.AddHtml($"<div class=\"side\"><div>{SvgBarChart.Render(sorted, highlighted, $"the {sorted.Length} channels, sorted by weight (dark: the maps shown above)", width: 520)}</div>" +
            $"<div class=\"formula\">{formula}<p>Largest {Number(max)} (channel {order[0]}), smallest {Number(min)} (channel {order[^1]}).</p></div></div>");
        if (!cam) Gradients(page, walk, order);
    }

    /// <summary>Grad-CAM only: the gradient map ∂y^c/∂A^k of the channel with the largest weight, whose average is that weight.</summary>
    private static void Gradients(HtmlPage page, WalkthroughResult walk, int[] order)
    {
        int k = order[0];
        var (min, max) = Range(walk.Gradient(k));
        string constant = min == max
            ? $" Here all {walk.Z} values are equal: on a GAP network ∂<i>y<sup>c</sup></i>/∂<i>A<sup>k</sup><sub>ij</sub></i> = <i>w<sub>k</sub><sup>c</sup></i>/<i>Z</i> at every position."
            : "";
        page.AddHtml($"<p>Where the weight comes from, for channel {k} (the largest): the gradient ∂<i>y<sup>c</sup></i>/∂<i>A<sup>k</sup></i>, one value per position " +
            $"(red positive, blue negative, white 0). Its average over the grid is <i>α<sub>k</sub><sup>c</sup></i> = {Number(walk.Weights[k])}.{constant}</p>");
        page.AddHtml(NumberGrid(walk.Gradient(k), walk.Width, walk.Height, $"∂y^c/∂A^k for k = {k}"));
    }

    private static void WeightedSum(HtmlPage page, WalkthroughResult walk)
    {
        bool cam = walk.Method == "cam";
        string name = cam ? "M<sub>c</sub>" : "L<sup>c</sup><sub>Grad-CAM</sub>";
        page.AddHeading("4. Weighted sum of the maps, then ReLU");
        page.AddHtml($"<p class=\"eq\">Σ<sub>k</sub> {Weight(cam)} <i>A<sup>k</sup></i> &nbsp;→&nbsp; <i>{name}</i> = ReLU(Σ<sub>k</sub> {Weight(cam)} <i>A<sup>k</sup></i>)</p>" +
            $"<p>Every position of the {walk.Height}×{walk.Width} grid is a weighted sum over the {walk.Channels} channels " +
            $"({(cam ? "CAM eq. 3" : "Grad-CAM eq. 2")}). ReLU keeps the positions that push the score <i>up</i>; negative values (blue) become 0. " +
            "<span class=\"src\"><code>MapOps.WeightedSum</code>, <code>MapOps.Relu</code>, src/NanoCam.Explain/MapOps.cs</span></p>");
        page.AddHtml("<div class=\"side\">" +
            NumberGrid(walk.WeightedSum, walk.Width, walk.Height, "before ReLU: Σ_k weight_k · A^k") +
            NumberGrid(walk.Map, walk.Width, walk.Height, "after ReLU") + "</div>");
    }

    private static void Upsampling(HtmlPage page, WalkthroughResult walk, ColorMap colors)
    {
        int height = walk.Result.InputHeight, width = walk.Result.InputWidth;
        var (min, max) = Range(walk.Map);
        var (upMin, upMax) = Range(walk.Upsampled);
        page.AddHeading("5. Bilinear upsampling to the input, then min–max scaling");
        page.AddHtml($"<p>The {walk.Height}×{walk.Width} map is resized to {width}×{height} by bilinear interpolation with half-pixel centres " +
            $"(align_corners = false): output pixel (<i>y</i>, <i>x</i>) reads the map at ((<i>y</i> + ½)·{walk.Height}/{height} − ½, (<i>x</i> + ½)·{walk.Width}/{width} − ½), " +
            "mixing its four neighbours. Then <i>m</i>′ = (<i>m</i> − min) / (max − min) scales it to [0, 1]. " +
            "Both pictures below share one colour scale, so the upsampled map shows the same values, smoothed. " +
            "<span class=\"src\"><code>MapOps.Upsample</code>, <code>MapOps.MinMaxNormalize</code>, src/NanoCam.Explain/MapOps.cs</span></p>");
        int target = 192;
        page.AddHtml("<div class=\"row\">" +
            Figure(Heat(walk.Map, walk.Width, walk.Height, min, max, colors), Scale(walk.Width, target), $"after ReLU, {walk.Width}×{walk.Height}", $"values in [{Short(min)}, {Short(max)}]") +
            Figure(Heat(walk.Upsampled, width, height, min, max, colors), Scale(width, target), $"bilinear, {width}×{height}", $"values in [{Short(upMin)}, {Short(upMax)}]") +
            Figure(Heat(walk.Normalized, width, height, 0f, 1f, colors), Scale(width, target), "min–max scaled", "values in [0, 1]") +
            "</div>");
    }

    private static void OverlaySection(HtmlPage page, WalkthroughResult walk, RgbImage shown, ColorMap colors)
    {
        page.AddHeading("6. The overlay");
        page.AddHtml("<p>Half image, half colour map: red where the map is near 1, the regions that raised the score of class <i>c</i>.</p>");
        var blended = Overlay.Blend(shown, walk.Normalized.ToArray(), walk.Result.InputWidth, walk.Result.InputHeight, colors);
        int scale = Scale(shown.Width, 192);
        page.AddHtml($"<div class=\"row\">{Figure(shown, scale, "input")}{Figure(blended, scale, walk.Method == "cam" ? "CAM overlay" : "Grad-CAM overlay")}</div>");
    }

    private static void CamBesideGradCam(HtmlPage page, WalkthroughResult walk, CamGradCamComparison comparison, ColorMap colors)
    {
        page.AddHeading("7. CAM and Grad-CAM side by side");
        page.AddHtml("<p>This layer feeds the classifier through global average pooling. When the head is pooling followed by one linear layer, <i>y<sup>c</sup></i> = Σ<sub>k</sub> <i>w<sub>k</sub><sup>c</sup></i> (1/<i>Z</i>) Σ<sub>ij</sub> <i>A<sup>k</sup><sub>ij</sub></i> + <i>b<sub>c</sub></i> " +
            "and therefore ∂<i>y<sup>c</sup></i>/∂<i>A<sup>k</sup><sub>ij</sub></i> = <i>w<sub>k</sub><sup>c</sup></i>/<i>Z</i> at every position: " +
            "<i>α<sub>k</sub><sup>c</sup></i> = <i>w<sub>k</sub><sup>c</sup></i>/<i>Z</i>. Grad-CAM is CAM times the constant 1/<i>Z</i>; after min–max scaling the two maps are identical. " +
            "<span class=\"src\"><code>CamWalkthrough.Compare</code>, src/NanoCam.Explain/CamWalkthrough.cs</span></p>");
        int scale = Scale(walk.Width, 128);
        var camSum = comparison.Cam.WeightedSumOf(0);
        var gradSum = comparison.GradCam.WeightedSumOf(0);
        var (camMin, camMax) = Range(camSum);
        var (gradMin, gradMax) = Range(gradSum);
        page.AddHtml("<div class=\"row\">" +
            Figure(Heat(comparison.Cam.MapOf(0), walk.Width, walk.Height, colors), scale, "CAM: ReLU(Σ_k w_k A^k)", $"before ReLU in [{Short(camMin)}, {Short(camMax)}]") +
            Figure(Heat(comparison.GradCam.MapOf(0), walk.Width, walk.Height, colors), scale, "Grad-CAM: ReLU(Σ_k α_k A^k)", $"before ReLU in [{Short(gradMin)}, {Short(gradMax)}]") +
            "</div>");
        bool asExpected = new[] { comparison.MapRatio, comparison.MinChannelRatio, comparison.MaxChannelRatio }
            .All(r => Math.Abs(r - comparison.ExpectedRatio) <= 1e-3 * comparison.ExpectedRatio);
        page.AddHtml("<table class=\"numbers\">" +
            $"<tr><th>Grad-CAM / CAM</th><th>value</th></tr>" +
            $"<tr><td>expected 1/<i>Z</i> = 1/{comparison.Z}</td><td class=\"ratio-expected\">{Number(comparison.ExpectedRatio)}</td></tr>" +
            $"<tr><td>measured on the maps (least squares over the {comparison.Z} positions)</td><td class=\"ratio-measured\">{Number(comparison.MapRatio)}</td></tr>" +
            $"<tr><td>measured per channel, <i>α<sub>k</sub><sup>c</sup></i> / <i>w<sub>k</sub><sup>c</sup></i></td><td>{Number(comparison.MinChannelRatio)} … {Number(comparison.MaxChannelRatio)}</td></tr>" +
            "</table>");
        if (!asExpected)
            page.AddHtml("<p class=\"warn\">Here the measured ratio is not 1/<i>Z</i>: the head is not exactly pooling followed by one linear layer. " +
                "(SqueezeNet, for one, has a ReLU between its 1×1 classifier and the pooling; the gradient then flows only through the positions " +
                "where the class map is positive, so <i>α<sub>k</sub><sup>c</sup></i> = <i>w<sub>k</sub><sup>c</sup></i> · (positive positions) / <i>Z</i>².)</p>");
    }

    private static void ClassScore(HtmlPage page, WalkthroughResult walk, ScoreDecomposition score)
    {
        page.AddHeading("8. The class score, rebuilt from the maps");
        page.AddHtml("<p class=\"eq\"><i>F<sup>k</sup></i> = (1/<i>Z</i>) Σ<sub>i,j</sub> <i>A<sup>k</sup><sub>ij</sub></i>, &nbsp; " +
            "<i>y<sup>c</sup></i> = Σ<sub>k</sub> <i>w<sub>k</sub><sup>c</sup></i> <i>F<sup>k</sup></i> + <i>b<sub>c</sub></i></p>" +
            "<p>Global average pooling turns each map into one number <i>F<sup>k</sup></i>; the classifier weighs them. Summing the CAM map " +
            "over its positions and dividing by <i>Z</i> gives the same Σ<sub>k</sub> <i>w<sub>k</sub><sup>c</sup></i> <i>F<sup>k</sup></i>: CAM shows " +
            $"where the score comes from. The {ContributionsShown} largest contributions: " +
            "<span class=\"src\"><code>CamWalkthrough.Decompose</code>, src/NanoCam.Explain/CamWalkthrough.cs</span></p>");
        var rows = new StringBuilder("<table class=\"numbers\"><tr><th>k</th><th><i>w<sub>k</sub><sup>c</sup></i></th><th><i>F<sup>k</sup></i></th><th><i>w<sub>k</sub><sup>c</sup></i>·<i>F<sup>k</sup></i></th></tr>");
        foreach (int k in Enumerable.Range(0, score.Contributions.Length).OrderByDescending(k => MathF.Abs(score.Contributions[k])).ThenBy(k => k).Take(ContributionsShown))
            rows.Append($"<tr><td>{k}</td><td>{Number(score.ClassWeights[k])}</td><td>{Number(score.PooledFeatures[k])}</td><td>{Number(score.Contributions[k])}</td></tr>");
        rows.Append($"<tr><td colspan=\"3\">Σ<sub>k</sub> <i>w<sub>k</sub><sup>c</sup></i> <i>F<sup>k</sup></i> over all {score.Contributions.Length} channels</td><td class=\"score-sum\">{Number(score.WeightedSum)}</td></tr>");
        rows.Append($"<tr><td colspan=\"3\">+ bias <i>b<sub>c</sub></i></td><td class=\"score-bias\">{Number(score.Bias)}</td></tr>");
        rows.Append($"<tr><th colspan=\"3\"><i>y<sup>c</sup></i> recomputed from the maps</th><th class=\"score-recomputed\">{Number(score.Recomputed)}</th></tr>");
        rows.Append($"<tr><th colspan=\"3\"><i>y<sup>c</sup></i> from the network's forward pass</th><th class=\"score-network\">{Number(score.NetworkScore)}</th></tr>");
        rows.Append($"<tr><td colspan=\"3\">relative difference</td><td>{score.RelativeError.ToString("0.00E+0", System.Globalization.CultureInfo.InvariantCulture)}</td></tr></table>");
        page.AddHtml(rows.ToString());
        if (score.RelativeError > 1e-4)
            page.AddHtml("<p class=\"warn\">The two differ: the head is not pooling followed by one linear layer, so the score is not a weighted sum of the pooled maps.</p>");
    }

    private const string Css =
        "p { max-width: 62em; line-height: 1.45; }\n" +
        ".lead { font-size: 1.05em; }\n" +
        ".eq { font-family: 'DejaVu Serif', serif; font-size: 1.15em; }\n" +
        ".src { color: #666; font-size: 0.85em; }\n" +
        ".warn { color: #8a4b00; }\n" +
        ".side { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; margin-bottom: 1em; }\n" +
        ".formula { max-width: 28em; }\n" +
        ".group { margin: 0.4em 0; font-size: 0.9em; color: #444; }\n" +
        "table.grid { border-collapse: collapse; font-size: 10px; font-family: monospace; margin-bottom: 0.5em; }\n" +
        "table.grid td { border: 1px solid #ddd; padding: 1px 2px; text-align: right; }\n" +
        "table.grid caption { font-family: sans-serif; font-size: 12px; padding: 4px; }\n" +
        "table.numbers td, table.numbers th { text-align: right; }\n";
}
