// RowParallel: a tiny persistent worker pool that splits a range of output rows across the cores, allocation-free.
using System.Runtime.CompilerServices;

namespace Compression.Kernels;

/// <summary>
/// Runs <c>body(ctx, start, end)</c> over [0, count) in chunks on the calling thread plus
/// <c>ProcessorCount − 1</c> persistent workers. Kernels call it once per GEMV, so it avoids the
/// per-call allocations and scheduling latency of <c>Parallel.For</c>: the job lives in static
/// fields guarded by a lock, the body is a function pointer and the context a pointer to the
/// caller's stack (valid because the caller waits until every claimed chunk is done). A call made while
/// another job is running (another thread, or a nested call) simply runs inline.
/// Decode issues GEMVs back to back, each only ~0.1–1 ms long, so a worker that blocked after every
/// job would add a futex wake-up (tens of µs) to each: workers first spin for
/// <see cref="SpinMicroseconds"/> watching the job counter, and only then sleep on their own semaphore.
/// </summary>
public static unsafe class RowParallel
{
    private static readonly object Gate = new();
    private static readonly int WorkerCount = Math.Max(0, Environment.ProcessorCount - 1);
    private static readonly Worker[] Workers = new Worker[WorkerCount];
    private static bool _started;
    private static int _generation;

    /// <summary>How long an idle worker polls for the next job before it sleeps: long enough to span
    /// the gap between a decode step's GEMVs, short enough not to starve libtorch's own threads
    /// (which run the attention and norms in between) on a 2-core machine.</summary>
    public const int SpinMicroseconds = 50;

    private sealed class Worker
    {
        public readonly SemaphoreSlim Wake = new(0, int.MaxValue);
        public int Sleeping; // 1 while the worker is (about to be) blocked on Wake
    }

    // The current job (written under Gate before workers are released).
    private static delegate*<nint, int, int, void> _body;
    private static nint _ctx;
    private static int _count, _chunk, _doneChunks;
    private static long _claim; // chunk count << 32 | chunks claimed so far

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
            // The claim word (chunk count << 32 | next chunk) is published last and in one piece, so a
            // straggler from the previous job either sees every chunk taken and leaves without touching
            // the new job's fields, or claims a real chunk of the new one.
            _body = body; _ctx = ctx; _count = count; _chunk = chunk;
            int chunkCount = (count + chunk - 1) / chunk;
            Volatile.Write(ref _doneChunks, 0);
            Interlocked.Exchange(ref _claim, (long)chunkCount << 32);
            Interlocked.Increment(ref _generation); // wakes spinning workers
            foreach (var w in Workers)
                if (Interlocked.CompareExchange(ref w.Sleeping, 0, 1) == 1) w.Wake.Release();
            RunChunks();
            // The context lives on the caller's stack: wait until every claimed chunk has finished.
            // A worker that wakes late (descheduled on a busy machine) finds nothing left and is not waited for.
            var spin = new SpinWait();
            while (Volatile.Read(ref _doneChunks) < chunkCount) spin.SpinOnce(-1);
        }
        finally { Monitor.Exit(Gate); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunChunks()
    {
        while (true)
        {
            long claim = Interlocked.Increment(ref _claim);
            int c = (int)(claim & 0xffffffff) - 1;
            if (c >= (int)(claim >> 32)) return;
            int start = c * _chunk;
            _body(_ctx, start, Math.Min(_count, start + _chunk));
            Interlocked.Increment(ref _doneChunks);
        }
    }

    private static void EnsureStarted()
    {
        if (_started) return;
        for (int i = 0; i < WorkerCount; i++)
        {
            var w = Workers[i] = new Worker();
            int generation = _generation; // read before the first job is published, so it is not missed
            new Thread(() => WorkerLoop(w, generation)) { IsBackground = true, Name = $"RowParallel-{i}" }.Start();
        }
        _started = true;
    }

    private static void WorkerLoop(Worker w, int seen)
    {
        long spinTicks = System.Diagnostics.Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        while (true)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen && System.Diagnostics.Stopwatch.GetTimestamp() - start < spinTicks)
                Thread.SpinWait(8);
            if (Volatile.Read(ref _generation) == seen)
            {
                Interlocked.Exchange(ref w.Sleeping, 1); // a full fence: the re-check below cannot move above it
                // A job published between the check above and the flag must not be missed: if the
                // caller already cleared the flag it has released (or will release) the semaphore.
                if (Volatile.Read(ref _generation) == seen || Interlocked.CompareExchange(ref w.Sleeping, 0, 1) == 0)
                    w.Wake.Wait();
            }
            seen = Volatile.Read(ref _generation);
            RunChunks();
        }
    }
}
