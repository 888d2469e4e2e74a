// RowParallelTests: the worker pool runs every index of every job exactly once, across thousands of back-to-back jobs.
using Compression.Kernels;

namespace Compression.Tests.Kernels;

public unsafe class RowParallelTests
{
    private struct Job
    {
        public int* Hits;
        public int Count;
    }

    private static void Body(nint p, int start, int end)
    {
        var job = (Job*)p;
        for (int i = start; i < end; i++) Interlocked.Increment(ref job->Hits[i]);
    }

    [Fact]
    public void BackToBackJobsFromTwoCallersCoverEveryIndexOnce()
    {
        // Back-to-back jobs exercise the spin hand-off and the straggler path; a second caller thread
        // exercises the inline fallback while the pool is busy.
        var errors = new List<string>();
        void Caller(int seed)
        {
            var rng = new Random(seed);
            for (int round = 0; round < 3000; round++)
            {
                int count = rng.Next(1, 300);
                var hits = new int[count];
                fixed (int* ph = hits)
                {
                    var job = new Job { Hits = ph, Count = count };
                    RowParallel.For(count, 1 + rng.Next(4), 1, &Body, (nint)(&job));
                }
                for (int i = 0; i < count; i++)
                    if (hits[i] != 1) { lock (errors) errors.Add($"seed {seed} round {round}: index {i} of {count} ran {hits[i]} times"); return; }
                if (round % 500 == 0) Thread.Sleep(1); // let the workers fall asleep now and then
            }
        }
        var t = new Thread(() => Caller(2));
        t.Start();
        Caller(1);
        t.Join();
        Assert.Empty(errors);
    }
}
