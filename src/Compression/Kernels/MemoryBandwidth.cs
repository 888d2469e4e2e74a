// MemoryBandwidth: this machine's read bandwidth, the roofline every decode kernel is measured against.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compression.Kernels;

/// <summary>
/// Streams a buffer far larger than the caches with every <see cref="RowParallel"/> thread summing
/// its own contiguous share (the same pool and split the GEMV kernels use), and reports the best of
/// several passes in GB/s (1e9 bytes). Decode reads each weight once per token, so this figure ÷
/// bytes of weights per token is the tokens/s ceiling.
/// </summary>
public static unsafe class MemoryBandwidth
{
    public const long DefaultBytes = 1L << 30;

    private struct Job
    {
        public byte* Buffer;
        public long Bytes;
        public int Parts;
        public long* Sums;
    }

    /// <summary>Best read bandwidth in GB/s over <paramref name="passes"/> passes of a <paramref name="bytes"/> buffer.</summary>
    public static double Measure(long bytes = DefaultBytes, int passes = 5)
    {
        if (bytes < 1 << 20 || passes < 1) throw new ArgumentException($"bandwidth: need ≥ 1 MiB and ≥ 1 pass (got {bytes} bytes, {passes} passes)");
        bytes &= ~4095L;
        var buffer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        Checkpoints.HugePageMapping.AdviseAllocation(buffer, bytes); // as the mapped weights it is compared with
        try
        {
            // Touch and fill so every page is really mapped (and not the shared zero page).
            for (long i = 0; i < bytes; i += 8) *(long*)(buffer + i) = i;
            int parts = RowParallel.Threads * 8;
            long* sums = stackalloc long[parts];
            var job = new Job { Buffer = buffer, Bytes = bytes, Parts = parts, Sums = sums };
            double best = 0;
            for (int p = 0; p < passes; p++)
            {
                var sw = Stopwatch.StartNew();
                RowParallel.For(parts, 1, 1, &SumParts, (nint)(&job));
                double seconds = sw.Elapsed.TotalSeconds;
                best = Math.Max(best, bytes / seconds / 1e9);
            }
            long check = 0;
            for (int i = 0; i < parts; i++) check += sums[i];
            GC.KeepAlive(check);
            return best;
        }
        finally { NativeMemory.AlignedFree(buffer); }
    }

    private static void SumParts(nint p, int start, int end)
    {
        var job = (Job*)p;
        long share = job->Bytes / job->Parts & ~255L;
        for (int part = start; part < end; part++)
        {
            byte* b = job->Buffer + part * share;
            long n = part == job->Parts - 1 ? job->Bytes - part * share : share;
            job->Sums[part] = Sum(b, n);
        }
    }

    /// <summary>Sum of the 64-bit words of [p, p+n), four independent vector accumulators.</summary>
    private static long Sum(byte* p, long n)
    {
        Vector256<long> a0 = default, a1 = default, a2 = default, a3 = default;
        long i = 0;
        for (; i + 128 <= n; i += 128)
        {
            a0 += Vector256.Load((long*)(p + i));
            a1 += Vector256.Load((long*)(p + i + 32));
            a2 += Vector256.Load((long*)(p + i + 64));
            a3 += Vector256.Load((long*)(p + i + 96));
        }
        long s = Vector256.Sum(a0 + a1 + a2 + a3);
        for (; i + 8 <= n; i += 8) s += *(long*)(p + i);
        return s;
    }
}
