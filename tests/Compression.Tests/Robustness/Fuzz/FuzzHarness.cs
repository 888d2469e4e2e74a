// FuzzHarness: runs one mutated input through a loader in-process and classifies the outcome — a typed, clear
// error or a correct load — while measuring the managed bytes it allocated and the time it took.
using System.Diagnostics;

namespace Compression.Tests.Robustness.Fuzz;

/// <summary>What one fuzz case did.</summary>
internal sealed record FuzzOutcome(string Case, bool Loaded, Exception? Error, long AllocatedBytes, TimeSpan Elapsed);

/// <summary>
/// Runs cases and collects violations: an exception outside the typed set the CLI reports as one line, an error
/// message that is empty, multi-line or does not name the input, an allocation above the bound, a case slower than
/// the time bound (a hang is caught by a watchdog), or a successful load the oracle rejects.
/// </summary>
internal sealed class FuzzHarness(string kind, long allocationBound, TimeSpan timeBound)
{
    private readonly List<string> _violations = [];
    public int Cases { get; private set; }
    public int Loaded { get; private set; }
    public long MaxAllocated { get; private set; }
    public string MaxAllocatedCase { get; private set; } = "";
    public TimeSpan MaxElapsed { get; private set; }
    public string MaxElapsedCase { get; private set; } = "";
    public Dictionary<string, int> ErrorTypes { get; } = [];
    public IReadOnlyList<string> Violations => _violations;

    /// <summary>The exception types a loader may throw for bad input (the CLI prints each as one line, exit 1).</summary>
    public static bool IsTypedError(Exception e) =>
        e.GetType() == typeof(InvalidDataException) || e.GetType() == typeof(NotSupportedException)
        || e.GetType() == typeof(FileNotFoundException) || e.GetType() == typeof(ArgumentException);

    /// <summary>
    /// Runs <paramref name="load"/>; on success <paramref name="oracle"/> checks the result is right (returns a
    /// problem or null). <paramref name="mustName"/> is the text every error message must contain (the file name).
    /// </summary>
    public void Run(string name, Func<object?> load, Func<object?, string?> oracle, string mustName)
    {
        Cases++;
        FuzzOutcome? outcome = null;
        var worker = new Thread(() =>
        {
            var clock = Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            object? result = null;
            Exception? error = null;
            try { result = load(); }
            catch (Exception e) { error = e; }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            var elapsed = clock.Elapsed; // the load alone; the oracle's own work is not the loader's time
            string? wrong = null;
            if (error is null)
            {
                try { wrong = oracle(result); }
                catch (Exception e) { wrong = $"the oracle failed on the loaded result: {e.GetType().Name}: {e.Message}"; }
                finally { (result as IDisposable)?.Dispose(); }
            }
            outcome = new FuzzOutcome(name, error is null, error ?? (wrong is null ? null : new OracleFailure(wrong)), allocated, elapsed);
        }, 64 << 20) { IsBackground = true };
        worker.Start();
        // The watchdog allows well over the bound so a slow shared machine is not taken for a hang.
        if (!worker.Join(timeBound * 5))
        {
            _violations.Add($"{kind} {name}: still running after {timeBound * 5} (hang)");
            return;
        }
        var o = outcome!;
        if (o.AllocatedBytes > MaxAllocated) { MaxAllocated = o.AllocatedBytes; MaxAllocatedCase = name; }
        if (o.Elapsed > MaxElapsed) { MaxElapsed = o.Elapsed; MaxElapsedCase = name; }
        if (o.AllocatedBytes > allocationBound)
            _violations.Add($"{kind} {name}: allocated {o.AllocatedBytes:N0} bytes (bound {allocationBound:N0})");
        if (o.Elapsed > timeBound)
            _violations.Add($"{kind} {name}: took {o.Elapsed.TotalMilliseconds:F0} ms (bound {timeBound.TotalMilliseconds:F0} ms)");
        if (o.Error is OracleFailure wrongLoad) { _violations.Add($"{kind} {name}: loaded, but wrong: {wrongLoad.Message}"); return; }
        if (o.Error is null) { Loaded++; return; }
        var e = o.Error;
        string type = e.GetType().Name;
        ErrorTypes[type] = ErrorTypes.GetValueOrDefault(type) + 1;
        if (!IsTypedError(e))
            _violations.Add($"{kind} {name}: unexpected {e.GetType().FullName}: {e.Message}\n{e.StackTrace}");
        else if (string.IsNullOrWhiteSpace(e.Message) || e.Message.Contains('\n'))
            _violations.Add($"{kind} {name}: {type} without a one-line message: '{e.Message}'");
        else if (!e.Message.Contains(mustName, StringComparison.Ordinal))
            _violations.Add($"{kind} {name}: {type} does not name '{mustName}': {e.Message}");
    }

    /// <summary>One line of figures for the test output.</summary>
    public string Summary() =>
        $"{kind}: {Cases} cases, {Loaded} loaded, errors {string.Join(", ", ErrorTypes.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key}×{kv.Value}"))}; " +
        $"max allocation {MaxAllocated / 1e6:F2} MB ({MaxAllocatedCase}); slowest {MaxElapsed.TotalMilliseconds:F0} ms ({MaxElapsedCase})";

    private sealed class OracleFailure(string message) : Exception(message);
}
