using System.CommandLine;

namespace NanoCam.Cli;

/// <summary>Runs a verb and turns every expected failure into one line on stderr and a non-zero exit code.</summary>
public static class CliRunner
{
    public static int Invoke(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        // A command line that does not parse (unknown verb or option, a value of the wrong type, a missing required
        // option) gets one line, like every other bad input, instead of the usage text; bare `nanocam` still shows it.
        if (parse.Errors.Count > 0 && args.Length > 0)
        {
            Console.Error.WriteLine($"nanocam: error: {DescribeParseErrors(parse)}");
            return 2;
        }
        try
        {
            return parse.Invoke();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"nanocam: error: {Describe(e)}");
            return 1;
        }
    }

    /// <summary>Wraps a verb's body so that bad input gets one clear line instead of a stack trace.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"nanocam: error: {Describe(e)}");
            return 1;
        }
    }

    /// <summary>The parser's messages on one line, with where to read the verb's options.</summary>
    private static string DescribeParseErrors(ParseResult parse)
    {
        var messages = string.Join("; ", parse.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Trim()).Distinct());
        var path = parse.CommandResult.Command is RootCommand ? "nanocam" : $"nanocam {parse.CommandResult.Command.Name}";
        return $"{messages} (see '{path} --help')";
    }

    /// <summary>Whether <paramref name="e"/> is a failure to report in one line (everything but the runtime's own fatal ones).</summary>
    internal static bool IsUserError(Exception e) => e is not (OutOfMemoryException or StackOverflowException or AccessViolationException);

    /// <summary>The one line that reports <paramref name="e"/>: its message, and the type only for unexpected exceptions.</summary>
    internal static string Describe(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
        if (inner is System.Reflection.TargetInvocationException { InnerException: { } ti }) inner = ti;
        // The last guard of "one clear line": whatever a message quotes from a file, no control character reaches the terminal.
        var message = DisplayText.Quote(inner.Message.ReplaceLineEndings(" "), 400);
        return inner switch
        {
            FileNotFoundException or DirectoryNotFoundException or ArgumentException or InvalidDataException or FormatException
                or InvalidOperationException or IOException or UnauthorizedAccessException or KeyNotFoundException
                or NotSupportedException => message,
            _ => $"{message} ({inner.GetType().Name})",
        };
    }
}
