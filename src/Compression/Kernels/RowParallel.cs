// RowParallel: a tiny persistent worker pool that splits a range of output rows across the cores, allocation-free.
using System.Runtime.CompilerServices;

namespace Compression.Kernels;

/// <summary>
/// Runs <c>body(ctx, start, end)</c> over [0, count) in chunks on the calling thread plus
/// <c>ProcessorCount − 1</c> persistent workers. Kernels call it once per GEMV, so it avoids the
/// per-call allocations and scheduling latency of <c>Parallel.For</c>: the job lives in static
/// fields guarded by a lock, the body is a function pointer and the context a pointer to the
/// caller's stack (valid because the caller waits for every worker to check out). A call made while
/// another job is running (another thread, or a nested call) simply runs inline.
/// </summary>
public static unsafe class RowParallel
{
    private static readonly object Gate = new();
    private static readonly int WorkerCount = Math.Max(0, Environment.ProcessorCount - 1);
    private static readonly SemaphoreSlim Wake = new(0, int.MaxValue);
    private static bool _started;

    // The current job (written under Gate before workers are released).
    private static delegate*<nint, int, int, void> _body;
    private static nint _ctx;
    private static int _count, _chunk, _nextChunk, _chunkCount, _checkedOut;

    /// <summary>Number of threads a job is split over (workers plus the caller).</summary>
    public static int Threads => WorkerCount + 1;

    /// <summary>
    /// Splits [0, count) into chunks that are multiples of <paramref name="grain"/> (a few per thread,
    /// so an unevenly loaded core can catch up) and runs them in parallel; returns when all are done.
    /// Ranges smaller than <paramref name="minParallel"/> run inline.
    /// </summary>
    public static void For(int count, int grain, int minParallel, delegate*<nint, int, int, void> body, nint ctx)
    {
        if (count <= 0) return;
        if (WorkerCount == 0 || count < minParallel || !Monitor.TryEnter(Gate))
        {
            body(ctx, 0, count);
            return;
        }
        try
        {
            EnsureStarted();
            int chunks = Threads * 4;
            int chunk = (count + chunks - 1) / chunks;
            chunk = Math.Max(grain, (chunk + grain - 1) / grain * grain);
            _body = body; _ctx = ctx; _count = count; _chunk = chunk;
            _chunkCount = (count + chunk - 1) / chunk;
            _nextChunk = 0;
            Volatile.Write(ref _checkedOut, 0);
            Wake.Release(WorkerCount);
            RunChunks();
            // Workers must leave before the caller's stack context goes away.
            var spin = new SpinWait();
            while (Volatile.Read(ref _checkedOut) < WorkerCount) spin.SpinOnce(-1);
        }
        finally { Monitor.Exit(Gate); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunChunks()
    {
        while (true)
        {
            int c = Interlocked.Increment(ref _nextChunk) - 1;
            if (c >= _chunkCount) return;
            int start = c * _chunk;
            _body(_ctx, start, Math.Min(_count, start + _chunk));
        }
    }

    private static void EnsureStarted()
    {
        if (_started) return;
        for (int i = 0; i < WorkerCount; i++)
            new Thread(WorkerLoop) { IsBackground = true, Name = $"RowParallel-{i}" }.Start();
        _started = true;
    }

    private static void WorkerLoop()
    {
        while (true)
        {
            Wake.Wait();
            RunChunks();
            Interlocked.Increment(ref _checkedOut);
        }
    }
}
