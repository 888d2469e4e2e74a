// CliErrors: how every command ends on an error — one line on standard error, an exit code by kind, the stack only on request.
using System.Text.Json;

namespace Compression.Cli;

/// <summary>
/// The top level's error policy: any exception becomes one line <c>error: MESSAGE</c> on standard error (never
/// wrapped, so a path is never split), with the stack trace only under <c>--verbose</c> or <c>COMPRESS_VERBOSE=1</c>.
/// Exit codes: 1 for errors, 2 for usage (bad options), 130 for an interruption.
/// </summary>
internal static class CliErrors
{
    public const int Error = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;

    public const string VerboseOption = "--verbose";
    public const string VerboseVariable = "COMPRESS_VERBOSE";

    /// <summary>Whether stack traces were asked for on the command line or in the environment.</summary>
    public static bool Verbose(IReadOnlyList<string> args) =>
        args.Contains(VerboseOption) || Environment.GetEnvironmentVariable(VerboseVariable) is "1" or "true" or "yes";

    /// <summary>Bad input the user can fix (a file, an option, a path) — as opposed to a fault in the workbench.</summary>
    public static bool IsUserError(Exception e) => e is InvalidDataException or IOException or UnauthorizedAccessException
        or ArgumentException or NotSupportedException or JsonException or FormatException or OverflowException;

    /// <summary>Prints <paramref name="e"/> as one line (plus the stack when verbose) and returns the exit code.</summary>
    public static int Report(Exception e, bool verbose, TextWriter? stderr = null)
    {
        stderr ??= Console.Error;
        e = Unwrap(e);
        if (e is OperationCanceledException)
        {
            Line(stderr, "cancelled", "interrupted; complete outputs were kept, nothing partial was written");
            return Interrupted;
        }
        string message = OneLine(e.Message);
        if (!IsUserError(e))
            message = $"internal error ({e.GetType().Name}): {message}" + (verbose ? "" : $" — rerun with {VerboseOption} or {VerboseVariable}=1 for the stack trace");
        Line(stderr, "error", message);
        if (verbose) stderr.WriteLine(e.ToString());
        return Error;
    }

    /// <summary>Prints usage (parse) errors, one line each, and returns <see cref="Usage"/>.</summary>
    public static int ReportUsage(IEnumerable<string> messages, string command, TextWriter? stderr = null)
    {
        stderr ??= Console.Error;
        foreach (string m in messages) Line(stderr, "error", OneLine(m));
        stderr.WriteLine($"(see '{command} --help')");
        return Usage;
    }

    // Parallel loops and tasks wrap the real error; a single inner exception is what the user needs to see.
    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
            else if (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
            else if (e is TypeInitializationException { InnerException: { } ti }) e = ti;
            else return e;
        }
    }

    private static string OneLine(string s) => string.Join(' ', s.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    // Plain text when redirected (a log or a pipe reads it whole); red label only on a terminal.
    private static void Line(TextWriter stderr, string label, string message)
    {
        bool color = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;
        stderr.WriteLine(color ? $"\u001b[31m{label}:\u001b[0m {message}" : $"{label}: {message}");
    }
}
