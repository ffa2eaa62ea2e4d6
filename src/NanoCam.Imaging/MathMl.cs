namespace NanoCam.Imaging;

/// <summary>
/// Presentation MathML written as HTML5 markup (browsers render &lt;math&gt; natively: no script, no network): one
/// function per element, text escaped, so a page can spell out its formulas, e.g.
/// <c>SubSup(Mi("w"), Mi("k"), Mi("c"))</c> for w_k^c.
/// </summary>
public static class MathMl
{
    /// <summary>A displayed formula on a line of its own: &lt;math display="block"&gt;.</summary>
    public static string Block(params string[] children) => $"<math display=\"block\">{Row(children)}</math>";

    /// <summary>A formula inside running text.</summary>
    public static string Inline(params string[] children) => $"<math>{Row(children)}</math>";

    /// <summary>Children grouped as one argument (&lt;mrow&gt;).</summary>
    public static string Row(params string[] children) => $"<mrow>{string.Concat(children)}</mrow>";

    /// <summary>An identifier: a variable or a function name.</summary>
    public static string Mi(string name) => $"<mi>{HtmlPage.Escape(name)}</mi>";

    /// <summary>An operator, bracket or separator.</summary>
    public static string Mo(string op) => $"<mo>{HtmlPage.Escape(op)}</mo>";

    /// <summary>A number.</summary>
    public static string Mn(string number) => $"<mn>{HtmlPage.Escape(number)}</mn>";

    /// <summary>Upright text inside a formula.</summary>
    public static string Text(string text) => $"<mtext>{HtmlPage.Escape(text)}</mtext>";

    /// <summary>base with a subscript.</summary>
    public static string Sub(string @base, string subscript) => $"<msub>{@base}{subscript}</msub>";

    /// <summary>base with a superscript.</summary>
    public static string Sup(string @base, string superscript) => $"<msup>{@base}{superscript}</msup>";

    /// <summary>base with a subscript and a superscript.</summary>
    public static string SubSup(string @base, string subscript, string superscript) => $"<msubsup>{@base}{subscript}{superscript}</msubsup>";

    /// <summary>A fraction.</summary>
    public static string Frac(string numerator, string denominator) => $"<mfrac>{numerator}{denominator}</mfrac>";

    /// <summary>A large operator with its index underneath, e.g. Σ over k.</summary>
    public static string Under(string @base, string under) => $"<munder>{@base}{under}</munder>";

    /// <summary>Σ with <paramref name="index"/> underneath.</summary>
    public static string Sum(string index) => Under(Mo("∑"), Mi(index));
}
