// HugePageMapping: mapped checkpoints read through 2 MiB page-cache pages where the kernel allows, not 4 KiB ones.
using System.Runtime.InteropServices;

namespace Compression.Checkpoints;

/// <summary>
/// Decode reads every weight once per token, so the mapping's page size decides how many TLB misses a token costs:
/// a 4.5 GB q4_0 GGUF is 1.1 million 4 KiB pages or 2,200 2 MiB ones. Linux maps page-cache pages with 2 MiB entries
/// when the cache holds the file in 2 MiB folios — which it does for pages it reads in for a mapping marked
/// <c>MADV_HUGEPAGE</c>, and for files it has just written, but not for pages an earlier plain read left in small folios.
/// Measured on the 2-core AMD EPYC VM, 8B q4_0 GGUF, alternated three times (page cache dropped, then a load that
/// leaves the file ~10 % 2 MiB-mapped, against <c>refresh</c>, ~97 %): decode 4.8–5.2 against 6.6–8.4 tok/s. (A first,
/// unalternated comparison gave 2.4 against 6.9; this VM's memory speed also swings by 2× within minutes.)
/// <para>
/// <see cref="Advise"/> marks every mapping <c>MADV_HUGEPAGE</c> (harmless where THP is off). With
/// <c>COMPRESS_HUGEPAGES=refresh</c>, <see cref="Refresh"/> first asks the kernel to drop the file's cached pages that no
/// process maps (<c>POSIX_FADV_DONTNEED</c>; clean pages, nothing is lost), so the mapping reads them back in 2 MiB
/// folios: the load then re-reads the file from disk once. Off by default for that reason; <c>off</c> skips the advice too.
/// </para>
/// </summary>
internal static unsafe partial class HugePageMapping
{
    public const string Variable = "COMPRESS_HUGEPAGES";
    private const int MadvHugePage = 14, PosixFadvDontNeed = 4;

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int MAdvise(nint address, nuint length, int advice);

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int PosixFAdvise(int fd, long offset, long length, int advice);

    /// <summary>The mode from <see cref="Variable"/>: <c>advise</c> (default), <c>refresh</c> or <c>off</c>.</summary>
    public static string Mode(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "on" or "advise" => "advise",
        "refresh" => "refresh",
        "off" or "0" or "false" => "off",
        var v => throw new NotSupportedException($"{Variable}={v}: expected advise, refresh or off"),
    };

    private static string? _current;

    /// <summary>This process's mode, read once; a bad value is a <see cref="NotSupportedException"/> naming it, on each use.</summary>
    private static string Current => _current ??= Mode(Environment.GetEnvironmentVariable(Variable));

    /// <summary>Drops the file's unmapped cached pages when the mode is <c>refresh</c> (Linux; a no-op elsewhere).</summary>
    public static void Refresh(string path)
    {
        if (Current == "refresh") DropCachedPages(path);
    }

    /// <summary>Asks the kernel to drop <paramref name="path"/>'s cached pages that no process maps (Linux; a no-op elsewhere).</summary>
    internal static void DropCachedPages(string path)
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            PosixFAdvise((int)handle.DangerousGetHandle(), 0, 0, PosixFadvDontNeed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>
    /// Marks the whole 4 KiB pages inside a fresh native allocation of <paramref name="length"/> bytes at
    /// <paramref name="start"/> <c>MADV_HUGEPAGE</c>, before anything touches it: with THP in <c>madvise</c> mode (as on
    /// this VM) a large buffer is otherwise faulted in as 4 KiB pages, so a quantized copy of a model (or the
    /// bandwidth probe's buffer) streams through a TLB miss every 4 KiB where a mapped GGUF has one every 2 MiB.
    /// Buffers under 4 MiB are left alone.
    /// </summary>
    public static void AdviseAllocation(void* start, long length)
    {
        if (length < 4 << 20) return;
        var (first, pages) = WholePages((long)start, length);
        Advise((byte*)first, pages);
    }

    /// <summary>The whole 4 KiB pages inside [start, start + length): their first address and their byte count.</summary>
    internal static (long First, long Length) WholePages(long start, long length)
    {
        long first = (start + 4095) & ~4095L, end = (start + length) & ~4095L;
        return (first, Math.Max(0, end - first));
    }

    /// <summary>Marks [<paramref name="start"/>, +<paramref name="length"/>) <c>MADV_HUGEPAGE</c> (Linux; the start is page-aligned by mmap).</summary>
    public static void Advise(byte* start, long length)
    {
        if (Current == "off" || !OperatingSystem.IsLinux() || length <= 0) return;
        try { MAdvise((nint)start, (nuint)length, MadvHugePage); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }
}
