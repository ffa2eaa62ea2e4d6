using System.Globalization;
using System.Text;

namespace NanoCam.Imaging;

/// <summary>A bar chart as inline SVG (no script, no network): one bar per value, a zero line, the extremes labelled.</summary>
public static class SvgBarChart
{
    /// <summary>
    /// Bars for <paramref name="values"/> in the order given (sort them first for a sorted chart); bars whose index is in
    /// <paramref name="highlighted"/> are drawn dark, the others light; <paramref name="xLabel"/> goes under the axis.
    /// </summary>
    public static string Render(IReadOnlyList<float> values, IReadOnlySet<int> highlighted, string xLabel, int width = 640, int height = 220)
    {
        if (values.Count == 0) throw new ArgumentException("a bar chart needs at least one value", nameof(values));
        const int left = 64, right = 8, top = 10, bottom = 28;
        float max = Math.Max(0f, values.Max()), min = Math.Min(0f, values.Min());
        if (!(max > min)) max = min + 1f;
        double plotWidth = width - left - right, plotHeight = height - top - bottom;
        double Y(float v) => top + (max - v) / (max - min) * plotHeight;
        double barWidth = plotWidth / values.Count;
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">"));
        svg.Append(Invariant($"<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#fff\"/>"));
        double zero = Y(0f);
        for (int i = 0; i < values.Count; i++)
        {
            double y = Math.Min(Y(values[i]), zero), h = Math.Abs(Y(values[i]) - zero);
            string fill = highlighted.Contains(i) ? (values[i] >= 0 ? "#b2182b" : "#2166ac") : (values[i] >= 0 ? "#f4a582" : "#92c5de");
            svg.Append(Invariant($"<rect x=\"{left + i * barWidth:F2}\" y=\"{y:F2}\" width=\"{Math.Max(barWidth - 0.3, 0.5):F2}\" height=\"{Math.Max(h, 0.5):F2}\" fill=\"{fill}\"/>"));
        }
        svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{zero:F2}\" x2=\"{width - right}\" y2=\"{zero:F2}\" stroke=\"#333\" stroke-width=\"1\"/>"));
        svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"#333\" stroke-width=\"1\"/>"));
        foreach (var (value, y) in new[] { (max, Y(max)), (0f, zero), (min, Y(min)) }.DistinctBy(t => Math.Round(t.Item2)))
            svg.Append(Invariant($"<text x=\"{left - 4}\" y=\"{y + 4:F2}\" font-size=\"11\" text-anchor=\"end\" font-family=\"sans-serif\">{value.ToString("G4", CultureInfo.InvariantCulture)}</text>"));
        svg.Append(Invariant($"<text x=\"{left + plotWidth / 2:F2}\" y=\"{height - 8}\" font-size=\"12\" text-anchor=\"middle\" font-family=\"sans-serif\">{HtmlPage.Escape(xLabel)}</text>"));
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
