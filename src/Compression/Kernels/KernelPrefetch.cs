// KernelPrefetch: how far ahead the decode kernels ask for weights they will read — the rows a thread reads next.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

/// <summary>
/// Decode reads every weight once, straight from DRAM (or the page cache of a mapped file). The hardware prefetcher
/// follows a stream only within a 4 KiB page and a few lines ahead, so a kernel that also computes stalls on misses
/// instead of overlapping them: at 8B shape q4_0 decode ran at about a third of the read bandwidth. Each kernel
/// therefore asks for the line at the same position of a row a few rows ahead (<see cref="GemvContext.Ahead"/>) as it
/// goes — the row its thread reads next, since a thread's rows are contiguous — so the misses are in flight while it
/// computes. Prefetches change no result. <c>COMPRESS_PREFETCH=off</c> turns them off, for measuring what they give
/// (the kernels then ask for the line they are reading, which is nothing); <c>COMPRESS_PREFETCH=N</c> sets the rows
/// ahead.
/// </summary>
public static class KernelPrefetch
{
    public const string EnvironmentVariable = "COMPRESS_PREFETCH";

    /// <summary>Rows ahead unless the environment says otherwise: one pass of the four-row kernels, four rows of the
    /// one-row kernels (at 8B: f16 within noise at 1–8 rows; q4_0 slower at half a pass, the same at two).</summary>
    public const int DefaultRows = 4;

    /// <summary>Rows ahead (0 = off).</summary>
    public static readonly int Rows = Parse(Environment.GetEnvironmentVariable(EnvironmentVariable)) ?? DefaultRows;

    /// <summary>Asks for the cache line at <paramref name="p"/> into every cache level (never faults, whatever p is).
    /// Prefetching into L2 only (t1/t2) measured the same at 8B; non-temporal halved f16 decode.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Line(void* p) => Sse.Prefetch0(p);

    /// <summary>
    /// Asks for the lines of one step of a kernel that reads <paramref name="bytes"/> (at most 128) of a row at a time,
    /// from <paramref name="p"/>: the first byte's line, and the last byte's too when the step is longer than a line
    /// (<see cref="LastOffset"/>). Step after step that asks for every line of the row as long as no step spans three
    /// lines, which holds for q8_0's 68-byte steps from rows that start 4-byte aligned (GGUF aligns tensor data to 32
    /// bytes, packed buffers are 64-aligned). The first byte's line alone left one line in seventeen of q8_0's rows to
    /// a demand miss — a stall of a whole memory latency each — and the 8B q8_0 GEMVs ran at three quarters of the speed
    /// they run at now.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Step(byte* p, int bytes)
    {
        Line(p);
        int last = LastOffset(bytes);
        if (last != 0) Line(p + last);
    }

    /// <summary>Where in a step of <paramref name="bytes"/> <see cref="Step"/> asks for its second line: the last byte
    /// when the step is longer than a line, else nowhere (0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int LastOffset(int bytes) => bytes > 64 ? bytes - 1 : 0;

    internal static int? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "off" or "false" or "no" => 0,
        var s when int.TryParse(s, out int n) && n >= 0 && n <= 64 => n,
        _ => null,
    };
}
