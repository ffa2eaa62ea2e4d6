using System.Text;

namespace NanoCam;

/// <summary>
/// Text that came from a file (a tensor name, a header, a decoder's complaint) made safe for a one-line message:
/// control and other non-printing characters as \uXXXX, long text cut. An error message never echoes raw bytes.
/// </summary>
public static class DisplayText
{
    /// <summary>At most <paramref name="limit"/> characters of <paramref name="text"/>, non-printing ones escaped.</summary>
    public static string Quote(string? text, int limit = 80)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(Math.Min(text.Length, limit) + 8);
        foreach (var rune in text.EnumerateRunes())
        {
            if (sb.Length >= limit) { sb.Append('…'); break; }
            if (IsPrintable(rune)) sb.Append(rune.ToString());
            else sb.Append($"\\u{rune.Value:X4}");
        }
        return sb.ToString();
    }

    /// <summary>Whether <paramref name="text"/> holds only printing characters (it can be shown as it is).</summary>
    public static bool IsPrintable(string text)
    {
        foreach (var rune in text.EnumerateRunes())
            if (!IsPrintable(rune)) return false;
        return true;
    }

    private static bool IsPrintable(Rune rune) =>
        !Rune.IsControl(rune) && rune.Value is not (0xFFFD or 0x2028 or 0x2029 or 0xFEFF)
        && Rune.GetUnicodeCategory(rune) is not (System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.OtherNotAssigned or System.Globalization.UnicodeCategory.Surrogate or System.Globalization.UnicodeCategory.PrivateUse);
}
