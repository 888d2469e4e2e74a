// Sweep: a model's own decode GEMVs in forward order with nothing between them — what its kernels read from its real
// weights (mapped files, every matrix once per pass) against the roofline benchmark's one repeated matrix.
using System.Diagnostics;
using Compression.Kernels;
using Compression.Quantization;

namespace Compression.Benchmarks;

/// <summary>
/// Loads a checkpoint as the CLI does and runs y = W·x for every packed linear layer in forward order, one token at a
/// time, through <see cref="PackedLinear.Multiply"/> (the decode's own entry point), for a number of passes. After each
/// pass: the read bandwidth right then, and a plain 2-thread read of the same weight bytes — the memory's own speed.
/// <c>--only NAME</c> repeats the first layer named like it 225 times (the roofline benchmark's way); <c>--copy</c>
/// copies every weight into anonymous memory first. The bandwidth pass allocates 1 GiB, which on a machine whose page
/// cache is full can push some mapped weights out (the next pass reads them back from disk). Run: <c>dotnet run -c Release --project src/Compression.Benchmarks --
/// sweep --model 8b-q4_0.gguf [--passes 5] [--only up_proj] [--copy]</c>.
/// </summary>
public static unsafe class Sweep
{
    public static int Run(string[] args)
    {
        string Option(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        string model = Option("--model", "");
        if (model.Length == 0) { Console.Error.WriteLine("error: sweep needs --model PATH"); return 2; }
        if (!int.TryParse(Option("--passes", "5"), out int passes) || passes < 1) { Console.Error.WriteLine("error: --passes must be a positive integer"); return 2; }
        string? only = Option("--only", "") is { Length: > 0 } o ? o : null;

        using var session = Compression.Inference.ModelSession.Open(model,
            new Compression.Inference.ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        var layers = session.Model.LinearLayers().Where(l => l.Layer is PackedLinear && (only is null || l.Name.Contains(only)))
            .Select(l => (l.Name, Layer: (PackedLinear)l.Layer)).ToList();
        if (layers.Count == 0) { Console.Error.WriteLine($"error: {model}: no packed linear layers{(only is null ? "" : $" named like {only}")}"); return 1; }
        if (args.Contains("--copy"))
            layers = [.. layers.Select(l => (l.Name, PackedLinear.FromPacked(new ReadOnlySpan<byte>(l.Layer.Weight.Data, checked((int)l.Layer.WeightBytes)),
                l.Layer.Format, (int)l.Layer.OutFeatures, (int)l.Layer.InFeatures)))];
        if (only is not null) layers = [.. Enumerable.Repeat(layers[0], 225)];
        long bytes = layers.Sum(l => l.Layer.WeightBytes);
        int maxIn = (int)layers.Max(l => l.Layer.InFeatures), maxOut = (int)layers.Max(l => l.Layer.OutFeatures);
        var x = new float[maxIn];
        var rng = new Random(3);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new float[maxOut];
        double bw = MemoryBandwidth.Measure();
        Console.WriteLine($"{model}: {layers.Count} GEMVs per pass, {bytes / 1e9:F3} GB; read bandwidth {bw:F1} GB/s ({RowParallel.Threads} threads)");
        fixed (float* px = x, py = y)
        {
            for (int p = 0; p <= passes; p++)
            {
                long t0 = Stopwatch.GetTimestamp();
                foreach (var (_, layer) in layers) layer.Multiply(px, 1, py);
                double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                // The bandwidth moves by tens of percent within minutes on a shared host: measure it again right
                // after each pass (one pass over 1 GiB, as plain as the roofline's), so each ratio has its own minute.
                double now = MemoryBandwidth.Measure(passes: 1);
                // And a plain 2-thread sum over the very same weight bytes, in the same order: the memory's own speed.
                long t1 = Stopwatch.GetTimestamp();
                foreach (var (_, layer) in layers) PlainRead(layer.Weight.Data, layer.WeightBytes);
                double r = Stopwatch.GetElapsedTime(t1).TotalSeconds;
                Console.WriteLine($"pass {p}{(p == 0 ? " (warm-up)" : "")}: {s * 1e3:F1} ms, {bytes / s / 1e9:F1} GB/s; " +
                    $"bandwidth right after {now:F1} GB/s: {100 * bytes / s / 1e9 / now:F0} %; plain read of the same weights {bytes / r / 1e9:F1} GB/s");
            }
        }
        return 0;
    }

    private static long _sink;

    /// <summary>Sums <paramref name="length"/> bytes at <paramref name="p"/> as 32-byte vectors, rows split over the cores as the GEMVs are.</summary>
    private static void PlainRead(byte* p, long length)
    {
        var job = (P: (nint)p, N: length);
        RowParallel.For((int)(length / 4096), 16, 64, &Body, (nint)(&job));
    }

    private static void Body(nint ctx, int start, int end)
    {
        var job = (ValueTuple<nint, long>*)ctx;
        byte* p = (byte*)job->Item1;
        var acc = System.Runtime.Intrinsics.Vector256<long>.Zero;
        for (long i = (long)start * 4096; i < (long)end * 4096; i += 32)
            acc += System.Runtime.Intrinsics.Vector256.Load((long*)(p + i));
        Interlocked.Add(ref _sink, System.Runtime.Intrinsics.Vector256.GetElement(acc, 0));
    }
}
