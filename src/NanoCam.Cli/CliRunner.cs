using System.CommandLine;
using System.Text.RegularExpressions;
using NanoCam.Cli.Shared;

namespace NanoCam.Cli;

/// <summary>
/// Runs a verb and turns every expected failure into one line on stderr: exit 2 when the command line does not parse
/// (no verb, an unknown verb or option, a value that is not a number, a missing required option), exit 1 when a value
/// is refused or the run fails (a missing or wrong file, an unknown name, a number out of range, bad data).
/// </summary>
public static partial class CliRunner
{
    /// <summary>The exit code of a command line that does not parse.</summary>
    public const int ParseErrorExitCode = 2;

    /// <summary>The exit code of a refused value or a failed run.</summary>
    public const int ErrorExitCode = 1;

    public static int Invoke(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        // One line, like every other bad input, instead of the usage text; bare `nanocam` too (the verbs are listed).
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"nanocam: error: {DescribeParseErrors(parse)}");
            return ParseErrorExitCode;
        }
        try
        {
            CheckPaths(parse);
            return parse.Invoke();
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"nanocam: error: {Describe(e)}");
            return ErrorExitCode;
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
            return ErrorExitCode;
        }
    }

    /// <summary>Every file and folder the verb was given, checked before it starts (so nothing is written when one is wrong).</summary>
    private static void CheckPaths(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (parse.Action != command.Action) return; // --help, --version
        foreach (var option in command.Options.OfType<PathOption>())
            if (parse.GetValue(option) is { } path)
                option.Check(path, command.Name);
    }

    /// <summary>The parser's messages on one line, .NET type names put in words, with where to read the verb's options.</summary>
    private static string DescribeParseErrors(ParseResult parse)
    {
        var verbs = string.Join(", ", parse.RootCommandResult.Command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
        if (parse.CommandResult.Command is RootCommand)
        {
            string problem = parse.UnmatchedTokens is [var first, ..]
                ? first.StartsWith('-') ? $"unknown option '{first}' before a command" : $"unknown command '{first}'"
                : "no command given";
            return $"{problem}; the commands are {verbs} (see 'nanocam --help')";
        }
        var messages = string.Join("; ", parse.Errors.Select(e => InWords(e.Message.ReplaceLineEndings(" ").Trim())).Distinct());
        return $"{messages} (see 'nanocam {parse.CommandResult.Command.Name} --help')";
    }

    /// <summary>"Cannot parse argument 'abc' for option '--top' as expected type 'System.Int32'." → "--top: 'abc' is not a whole number".</summary>
    private static string InWords(string message)
    {
        var match = CannotParse().Match(message);
        if (!match.Success) return message;
        string type = match.Groups["type"].Value, kind = type.Contains("Int32") || type.Contains("Int64") ? "a whole number"
            : type.Contains("Single") || type.Contains("Double") ? "a number"
            : type.Contains("Boolean") ? "true or false"
            : "a valid value";
        return $"{match.Groups["option"].Value}: '{match.Groups["value"].Value}' is not {kind}";
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']*)' as expected type '(?<type>[^']*)'\.?$")]
    private static partial Regex CannotParse();

    /// <summary>Whether <paramref name="e"/> is a failure to report in one line (everything but the runtime's own fatal ones).</summary>
    internal static bool IsUserError(Exception e) => e is not (OutOfMemoryException or StackOverflowException or AccessViolationException);

    /// <summary>The one line that reports <paramref name="e"/>: its message, and the type only for unexpected exceptions.</summary>
    internal static string Describe(Exception e)
    {
        var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
        if (inner is System.Reflection.TargetInvocationException { InnerException: { } ti }) inner = ti;
        // The last guard of "one clear line": whatever a message quotes from a file, no control character reaches the terminal.
        var message = DisplayText.Quote(WithoutParameterName(inner).ReplaceLineEndings(" "), 400);
        return inner switch
        {
            FileNotFoundException or DirectoryNotFoundException or ArgumentException or InvalidDataException or FormatException
                or InvalidOperationException or IOException or UnauthorizedAccessException or KeyNotFoundException
                or NotSupportedException => message,
            // Not an input error we expected: a bug, so the type stays in the line for the report.
            _ => $"internal error: {message} ({inner.GetType().Name}); please report it with the command line",
        };
    }

    /// <summary>An ArgumentException's own words, without the " (Parameter 'x')" that .NET appends and "Actual value was …".</summary>
    private static string WithoutParameterName(Exception e)
    {
        if (e is not ArgumentException { ParamName: { } name } argument) return e.Message;
        var message = argument.Message;
        int at = message.IndexOf($" (Parameter '{name}')", StringComparison.Ordinal);
        return at >= 0 ? message[..at] : message;
    }
}
