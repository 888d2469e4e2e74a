// ReadBandwidth: this machine's memory read bandwidth with N threads streaming over a buffer far larger than the
// caches — the numerator of the decode roofline (tokens/s ≤ bandwidth ÷ weight bytes read per token).
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compression.Evaluation.Throughput;

/// <summary>Settings of a bandwidth measurement.</summary>
public sealed record BandwidthOptions
{
    /// <summary>Threads reading at once (decode runs with this many).</summary>
    public int Threads { get; init; } = Math.Min(2, Environment.ProcessorCount);
    /// <summary>Buffer size; ≥ 1 GiB so no cache level holds a useful part of it.</summary>
    public long Bytes { get; init; } = 1L << 30;
    /// <summary>Passes over the buffer; the fastest counts (others lose time to the neighbours on a shared machine).</summary>
    public int Passes { get; init; } = 7;
}

/// <summary>A measured read bandwidth.</summary>
public sealed record BandwidthResult(double BytesPerSecond, double MedianBytesPerSecond, int Threads, long Bytes, int Passes)
{
    public double GigabytesPerSecond => BytesPerSecond / 1e9;
}

public static class ReadBandwidth
{
    /// <summary>
    /// Touches a buffer of <see cref="BandwidthOptions.Bytes"/> (so its pages exist), then times passes in which each
    /// thread sums its contiguous share with 256-bit loads into four independent accumulators (the adds never limit
    /// the loads); reports the best pass. The sum is kept so the reads cannot be elided.
    /// </summary>
    public static unsafe BandwidthResult Measure(BandwidthOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new BandwidthOptions();
        if (options.Threads < 1 || options.Passes < 1 || options.Bytes < 1 << 20)
            throw new ArgumentException("bandwidth: threads and passes must be positive and the buffer at least 1 MiB");
        long vectors = options.Bytes / 32 / options.Threads / 4 * 4 * options.Threads; // whole unrolled groups per thread
        nuint bytes = (nuint)(vectors * 32);
        var buffer = (Vector256<ulong>*)NativeMemory.AlignedAlloc(bytes, 64);
        Checkpoints.HugePageMapping.AdviseAllocation(buffer, (long)bytes); // as the mapped weights it is compared with
        try
        {
            NativeMemory.Clear(buffer, bytes); // every page faulted in before timing
            var rates = new double[options.Passes];
            ulong sink = 0;
            for (int pass = 0; pass < options.Passes; pass++)
            {
                cancel.ThrowIfCancellationRequested();
                var sums = new ulong[options.Threads];
                var clock = Stopwatch.StartNew();
                var threads = Enumerable.Range(0, options.Threads).Select(t => new Thread(() => sums[t] = Sum(buffer + t * (vectors / options.Threads), vectors / options.Threads))).ToArray();
                foreach (var th in threads) th.Start();
                foreach (var th in threads) th.Join();
                rates[pass] = (double)bytes / clock.Elapsed.TotalSeconds;
                foreach (var s in sums) sink += s;
            }
            GC.KeepAlive(sink);
            Array.Sort(rates);
            return new BandwidthResult(rates[^1], rates[rates.Length / 2], options.Threads, (long)bytes, options.Passes);
        }
        finally { NativeMemory.AlignedFree(buffer); }
    }

    private static unsafe ulong Sum(Vector256<ulong>* p, long count)
    {
        Vector256<ulong> a = default, b = default, c = default, d = default;
        for (long i = 0; i < count; i += 4)
        {
            a += p[i];
            b += p[i + 1];
            c += p[i + 2];
            d += p[i + 3];
        }
        return Vector256.Sum(a + b + c + d);
    }
}
