using System.Text;

namespace NanoCam.Onnx;

/// <summary>Text from a model file made safe for a one-line error message: control characters escaped, long text cut.</summary>
public static class OnnxText
{
    /// <summary>At most <paramref name="limit"/> characters of <paramref name="text"/>, control and non-printable characters as \uXXXX.</summary>
    public static string Quote(string? text, int limit = 80)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(Math.Min(text.Length, limit) + 8);
        foreach (var rune in text.EnumerateRunes())
        {
            if (sb.Length >= limit) { sb.Append('…'); break; }
            if (Rune.IsControl(rune) || rune.Value is 0xFFFD or 0x2028 or 0x2029) sb.Append($"\\u{rune.Value:X4}");
            else sb.Append(rune.ToString());
        }
        return sb.ToString();
    }
}
