// GemmBench: the prefill GEMM at Llama 8B shapes — GFLOP/s of the blocked kernel per ISA level against the original one, in one run.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Compression.IO;
using Compression.Kernels;
using Compression.Quantization;

namespace Compression.Benchmarks;

/// <summary>
/// Times <c>Y = X·Wᵀ</c> (<see cref="TiledGemm.Run"/>, what every packed format's prefill runs) for n tokens on a
/// packed matrix, per ISA level. Level <c>scalar</c> is the original kernel (<see cref="TiledGemmReference"/>, tiled
/// and parallel as before), so one run gives the speed-up on the same machine under the same load.
/// Formats with an integer prefill (q4_0, q8_0) are also timed with Q8 activations (<see cref="PrefillActivations"/>: what
/// generation and the throughput benchmark run; evaluation runs the float tiles).
/// Reports the best wall time and GFLOP per CPU-second of the whole process (less sensitive to a shared machine
/// taking cores away; not to it sharing caches).
/// Run: <c>dotnet run -c Release --project src/Compression.Benchmarks -- gemm [--formats q4_0] [--shapes 4096x4096,...]
/// [--tokens 64,512] [--isa all|scalar|avx2|avx512] [--repetitions 3] [--out table.md]</c>.
/// </summary>
public static class GemmBench
{
    public static int Run(string[] args)
    {
        string Option(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var formats = Option("--formats", "q4_0").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var shapes = Option("--shapes", "4096x4096,14336x4096,4096x14336").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var tokens = Option("--tokens", "64,512").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int repetitions = int.Parse(Option("--repetitions", "3"), CultureInfo.InvariantCulture);
        string isaArg = Option("--isa", "all");
        var levels = isaArg == "all" ? KernelIsa.Supported().ToArray() : isaArg.Split(',').Select(KernelIsa.FromEnvironment).ToArray();
        string? outPath = Option("--out", "") is { Length: > 0 } o ? o : null;

        var sb = new StringBuilder();
        void Emit(string line) { Console.WriteLine(line); sb.AppendLine(line); }
        Emit($"prefill GEMM, {RowParallel.Threads} threads, CPU ISA {KernelIsa.Detected}, load {Roofline.LoadAverage()}; isa scalar = the original kernel");
        Emit("");
        Emit("| format | shape | n | isa | best ms | GFLOP/s | GFLOP per CPU-s | × original |");
        Emit("|---|---|---:|---|---:|---:|---:|---:|");
        foreach (string name in formats)
        {
            var f = FormatRegistry.Get(name);
            WarmUp(f, levels);
            foreach (string shape in shapes)
            {
                var (rows, cols) = Roofline.ParseShape(shape);
                if (!f.Supports(cols)) continue;
                byte[] packed = Roofline.BuildMatrix(f, rows, cols);
                foreach (int n in tokens)
                {
                    var x = new float[(long)n * cols];
                    var rng = new Random(2);
                    for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
                    var y = new float[(long)n * rows];
                    double flop = 2.0 * n * rows * cols;
                    double? original = null;
                    foreach (var level in levels)
                    {
                        var (ms, cpu) = Time(f, packed, rows, cols, x, n, y, level, repetitions);
                        double gflops = flop / (ms * 1e6);
                        if (level == IsaLevel.Scalar) original = gflops;
                        string ratio = original is double o0 ? $"{gflops / o0:F2}" : "";
                        Emit($"| {name} | {shape} | {n} | {level.ToString().ToLowerInvariant()} | {ms:F1} | {gflops:F1} | {flop / cpu / 1e9:F1} | {ratio} |");
                    }
                    if (f.GemmQuantizesActivations)
                        foreach (var level in levels)
                        {
                            using var q8 = PrefillActivations.Use(PrefillActivations.Mode.Q8);
                            var (ms, cpu) = Time(f, packed, rows, cols, x, n, y, level, repetitions);
                            double gflops = flop / (ms * 1e6);
                            string ratio = original is double o0 ? $"{gflops / o0:F2}" : "";
                            Emit($"| {name} | {shape} | {n} | {level.ToString().ToLowerInvariant()}, Q8 activations | {ms:F1} | {gflops:F1} | {flop / cpu / 1e9:F1} | {ratio} |");
                        }
                }
            }
        }
        Emit("");
        Emit($"load after: {Roofline.LoadAverage()}");
        if (outPath is not null) AtomicFile.WriteAllText(outPath, sb.ToString());
        return 0;
    }

    /// <summary>
    /// Runs the format's GEMM on a small matrix at every level (and with Q8 activations) until the runtime has compiled its
    /// kernels at full optimization: tiered compilation first runs a method unoptimized and promotes it only after ~30
    /// calls and a quiet 100 ms, so the first case timed otherwise measured the unoptimized kernels (4096×4096 n = 64,
    /// the first case of a run, came out at half the speed of the same case later in the run).
    /// </summary>
    private static void WarmUp(TensorFormat f, IsaLevel[] levels)
    {
        const int rows = 256, n = 16;
        int cols = f.Supports(4096) ? 4096 : f.BlockSize * 32;
        byte[] packed = Roofline.BuildMatrix(f, rows, cols);
        var x = new float[n * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (i % 7 - 3) * 0.25f;
        var y = new float[n * rows];
        foreach (bool q8 in f.GemmQuantizesActivations ? new[] { false, true } : [false])
            foreach (var level in levels)
            {
                using var _ = KernelIsa.Override(level);
                using var mode = PrefillActivations.Use(q8 ? PrefillActivations.Mode.Q8 : PrefillActivations.Mode.Float);
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < 60 || clock.ElapsedMilliseconds < 500; i++) f.Gemm(packed, rows, cols, x, n, y);
            }
    }

    /// <summary>Best wall milliseconds and the process CPU seconds of that call, over <paramref name="repetitions"/> calls after one warm-up.</summary>
    private static (double Ms, double CpuSeconds) Time(TensorFormat f, byte[] packed, int rows, int cols, float[] x, int n, float[] y, IsaLevel level, int repetitions)
    {
        using var _ = KernelIsa.Override(level);
        return Time(() => f.Gemm(packed, rows, cols, x, n, y), repetitions);
    }

    private static (double Ms, double CpuSeconds) Time(Action gemm, int repetitions)
    {
        var process = Process.GetCurrentProcess();
        gemm();
        double bestMs = double.MaxValue, cpuAtBest = 0;
        for (int i = 0; i < repetitions; i++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            gemm();
            double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            process.Refresh();
            if (ms < bestMs) { bestMs = ms; cpuAtBest = (process.TotalProcessorTime - cpu0).TotalSeconds; }
        }
        return (bestMs, cpuAtBest);
    }
}
