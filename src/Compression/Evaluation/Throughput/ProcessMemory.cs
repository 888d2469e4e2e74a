// ProcessMemory: this process's memory from /proc/self/status — resident set, its peak, and the anonymous part
// (heap, native allocations; file-backed mapped weights and page cache excluded).
namespace Compression.Evaluation.Throughput;

/// <summary>
/// Memory of a process in bytes, as /proc/self/status reports it. <see cref="AnonymousBytes"/> is what an allocation
/// costs (RssAnon); mapped file pages (RssFile) can be dropped and re-read, so a model mapped in place shows up there.
/// </summary>
public readonly record struct ProcessMemory(long ResidentBytes, long PeakResidentBytes, long AnonymousBytes, long FileBytes)
{
    /// <summary>This process now; zeros where /proc is unavailable (peak and resident then fall back to the working set).</summary>
    public static ProcessMemory Current()
    {
        try { return Parse(File.ReadLines("/proc/self/status")); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            long ws = Environment.WorkingSet;
            return new ProcessMemory(ws, ws, 0, 0);
        }
    }

    /// <summary>
    /// Parses status lines. The kernel separates key and value with a tab and right-aligns the number with spaces
    /// only while it is short ("VmHWM:\t  123456 kB", "VmHWM:\t22295796 kB"), so fields are split on any whitespace.
    /// </summary>
    public static ProcessMemory Parse(IEnumerable<string> lines)
    {
        long rss = 0, hwm = 0, anon = 0, file = 0;
        foreach (var line in lines)
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            switch (line[..colon])
            {
                case "VmRSS": rss = Kilobytes(line, colon); break;
                case "VmHWM": hwm = Kilobytes(line, colon); break;
                case "RssAnon": anon = Kilobytes(line, colon); break;
                case "RssFile": file = Kilobytes(line, colon); break;
            }
        }
        return new ProcessMemory(rss, Math.Max(hwm, rss), anon, file);
    }

    private static long Kilobytes(string line, int colon)
    {
        var fields = line[(colon + 1)..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 0 || !long.TryParse(fields[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value))
            throw new InvalidDataException($"/proc/self/status: cannot read a size from '{line}'");
        long unit = fields.Length > 1 ? fields[1].ToLowerInvariant() switch
        {
            "kb" => 1024,
            "mb" => 1024 * 1024,
            "b" => 1,
            _ => throw new InvalidDataException($"/proc/self/status: unknown unit in '{line}'"),
        } : 1;
        return value * unit;
    }
}

/// <summary>
/// Samples <see cref="ProcessMemory"/> on a background thread while a measurement runs, keeping the peaks of the
/// resident set and of its anonymous part over that window (VmHWM is the whole process's lifetime peak; this is the
/// peak of one engine's run within it). Dispose to stop.
/// </summary>
public sealed class MemorySampler : IDisposable
{
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private readonly TimeSpan _interval;
    private long _peakResident, _peakAnonymous;

    public MemorySampler(TimeSpan? interval = null)
    {
        _interval = interval ?? TimeSpan.FromMilliseconds(20);
        Sample();
        _thread = new Thread(Loop) { IsBackground = true, Name = "memory sampler", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Largest resident set seen during the window (bytes).</summary>
    public long PeakResidentBytes => Interlocked.Read(ref _peakResident);
    /// <summary>Largest anonymous resident memory seen during the window (bytes).</summary>
    public long PeakAnonymousBytes => Interlocked.Read(ref _peakAnonymous);

    private void Loop()
    {
        while (!_stop.Wait(_interval)) Sample();
    }

    /// <summary>Takes one sample now (also done at start and at dispose, so short windows are still covered).</summary>
    public void Sample()
    {
        var m = ProcessMemory.Current();
        InterlockedMax(ref _peakResident, m.ResidentBytes);
        InterlockedMax(ref _peakAnonymous, m.AnonymousBytes);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    public void Dispose()
    {
        if (_stop.IsSet) return;
        _stop.Set();
        _thread.Join();
        Sample();
        _stop.Dispose();
    }
}
