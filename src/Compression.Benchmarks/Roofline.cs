// Roofline: every format's decode GEMV at Llama 8B shapes, in GB/s of packed weights and % of this machine's read bandwidth.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Compression.IO;
using Compression.Kernels;
using Compression.Quantization;

namespace Compression.Benchmarks;

/// <summary>
/// A plain harness (BenchmarkDotNet would take an hour over 4 shapes × 9 formats × ISA levels):
/// measures <see cref="MemoryBandwidth"/> once, then for each format, shape and ISA level times
/// <c>y = W·x</c> on a packed matrix and reports packed bytes ÷ median time against that bandwidth,
/// all in one run so the ratios are comparable. The matrix is a quantized slab of Gaussian rows
/// repeated to the full height (the kernels' speed does not depend on the values).
/// Run: <c>dotnet run -c Release --project src/Compression.Benchmarks -- roofline [--formats f16,q4_0]
/// [--shapes 4096x4096,...] [--isa all|scalar|avx2|avx512] [--seconds 1] [--out table.md]</c>.
/// </summary>
public static class Roofline
{
    public static readonly string[] DefaultShapes = ["4096x4096", "14336x4096", "4096x14336", "128256x4096"];
    public static readonly string[] DefaultFormats = ["f16", "bf16", "q8_0", "int8", "q4_0", "int4", "q1_0", "q6_k", "tq2_0", "tq1_0"];

    public static int Run(string[] args)
    {
        string Option(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var formats = Option("--formats", string.Join(',', DefaultFormats)).Split(',', StringSplitOptions.RemoveEmptyEntries);
        var shapes = Option("--shapes", string.Join(',', DefaultShapes)).Split(',', StringSplitOptions.RemoveEmptyEntries);
        double seconds = double.Parse(Option("--seconds", "1"), CultureInfo.InvariantCulture);
        string isaArg = Option("--isa", KernelIsa.Current.ToString().ToLowerInvariant());
        var levels = isaArg == "all"
            ? KernelIsa.Supported().Where(l => l != IsaLevel.Scalar).ToArray()
            : isaArg.Split(',').Select(KernelIsa.FromEnvironment).ToArray();
        string? outPath = Option("--out", "") is { Length: > 0 } o ? o : null;

        var sb = new StringBuilder();
        void Emit(string line) { Console.WriteLine(line); sb.AppendLine(line); }

        double bw = MemoryBandwidth.Measure();
        Emit($"read bandwidth: {bw:F1} GB/s ({RowParallel.Threads} threads, best of 5 passes over 1 GiB); CPU ISA {KernelIsa.Detected}; load {LoadAverage()}");
        Emit("");
        Emit("| format | shape | isa | MB | ms | GB/s | % of bandwidth | core GB/s (cached) |");
        Emit("|---|---|---|---:|---:|---:|---:|---:|");
        foreach (string name in formats)
        {
            var f = FormatRegistry.Get(name);
            foreach (string shape in shapes)
            {
                var (rows, cols) = ParseShape(shape);
                if (!f.Supports(cols)) continue;
                byte[] packed = BuildMatrix(f, rows, cols);
                var x = new float[cols];
                var rng = new Random(2);
                for (int i = 0; i < cols; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
                var y = new float[rows];
                // A format with a decode layout (COMPRESS_REPACK=1) gets a second row read from it.
                foreach (bool layout in f.HasDecodeLayout ? new[] { false, true } : new[] { false })
                foreach (var level in levels)
                {
                    double ms = TimeMedian(f, packed, rows, cols, x, y, level, seconds, layout);
                    double gbs = packed.Length / (ms * 1e6);
                    double core = CoreThroughput(f, cols, x, y, level, seconds / 2, layout);
                    Emit($"| {name}{(layout ? " (repacked)" : "")} | {shape} | {level.ToString().ToLowerInvariant()} | {packed.Length / 1e6:F1} | {ms:F3} | {gbs:F1} | {100 * gbs / bw:F0} % | {core:F1} |");
                }
            }
        }
        Emit("");
        Emit($"read bandwidth after: {MemoryBandwidth.Measure():F1} GB/s; load {LoadAverage()}");
        if (outPath is not null) AtomicFile.WriteAllText(outPath, sb.ToString());
        return 0;
    }

    public static (int Rows, int Cols) ParseShape(string s)
    {
        var parts = s.Split('x');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int r) || !int.TryParse(parts[1], out int c) || r <= 0 || c <= 0)
            throw new ArgumentException($"shape '{s}': expected ROWSxCOLS, e.g. 4096x14336");
        return (r, c);
    }

    /// <summary>Quantizes up to 512 Gaussian rows and repeats them to <paramref name="rows"/>.</summary>
    internal static byte[] BuildMatrix(TensorFormat f, int rows, int cols)
    {
        int slab = Math.Min(rows, 512);
        var rng = new Random(1);
        var w = new float[slab * cols];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(0.02 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        long rb = f.RowBytes(cols);
        var packed = GC.AllocateUninitializedArray<byte>(checked((int)(rows * rb)));
        f.Quantize(w, slab, cols, packed.AsSpan(0, (int)(slab * rb)));
        for (int r = slab; r < rows; r += slab)
            packed.AsSpan(0, (int)(Math.Min(slab, rows - r) * rb)).CopyTo(packed.AsSpan((int)(r * rb)));
        return packed;
    }

    /// <summary>Median milliseconds per GEMV over about <paramref name="seconds"/> of calls (after warm-up).</summary>
    private static double TimeMedian(TensorFormat f, byte[] packed, int rows, int cols, float[] x, float[] y, IsaLevel level, double seconds,
        bool layout)
    {
        using var _ = KernelIsa.Override(level);
        using var gemv = new Gemv(f, packed, rows, cols, layout);
        for (int i = 0; i < 3; i++) gemv.Run(x, y);
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds || times.Count < 5)
        {
            long t0 = Stopwatch.GetTimestamp();
            gemv.Run(x, y);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>y = W·x for one packed matrix, from the file's layout or from the format's decode layout (built once, by
    /// <see cref="PackedWeight.DecodeLayout"/>, as a layer builds it on its first decode GEMV).</summary>
    private sealed unsafe class Gemv : IDisposable
    {
        private readonly PackedWeight _weight;
        private readonly byte* _layout;

        public Gemv(TensorFormat f, byte[] packed, int rows, int cols, bool layout)
        {
            _weight = PackedWeight.FromBytes(packed, f, rows, cols);
            if (layout) _layout = _weight.DecodeLayout();
        }

        public void Run(float[] x, float[] y)
        {
            var packed = _weight.RowSpan(0, _weight.Rows);
            if (_layout == null) _weight.Format.Gemv(packed, _weight.Rows, _weight.Cols, x, y);
            else _weight.Format.Gemv(packed, _layout, _weight.Rows, _weight.Cols, x, y);
        }

        public void Dispose() => _weight.Release();
    }

    /// <summary>
    /// Compute ceiling of one core, robust to a contended machine: GB of packed weights per second of
    /// this thread's CPU time on a ~192 KiB slice of the matrix (rows of at most 4096 columns) (below the parallel threshold, so it
    /// runs on this thread, and cache-resident, so memory does not limit it). Two cores can reach the
    /// roofline only if twice this figure is well above the read bandwidth.
    /// </summary>
    private static double CoreThroughput(TensorFormat f, int cols, float[] x, float[] y, IsaLevel level, double seconds, bool layout)
    {
        // At most 4096 columns, so a cached slice still has enough rows (≥ 50) to amortise quantizing x.
        cols = f.Supports(4096) ? Math.Min(cols, 4096) : cols;
        long rb = f.RowBytes(cols);
        int rows = (int)Math.Max(1, (192 << 10) / rb);
        // Whole sixteen-row groups, as every matrix of the model has: the rows past them take one-row kernels (for a
        // decode layout, its scalar-order one), which would weigh far more in 85 rows than in 14,336.
        if (rows >= 32) rows -= rows % 16;
        var slice = BuildMatrix(f, rows, cols);
        using var _ = KernelIsa.Override(level);
        using var gemv = new Gemv(f, slice, rows, cols, layout);
        for (int i = 0; i < 3; i++) gemv.Run(x, y);
        double best = 0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            double t0 = ThreadCpuSeconds();
            for (int i = 0; i < 20; i++) gemv.Run(x, y);
            double dt = ThreadCpuSeconds() - t0;
            if (dt > 0) best = Math.Max(best, 20.0 * slice.Length / dt / 1e9);
        }
        return best;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds, Nanoseconds; }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec ts);

    private static double ThreadCpuSeconds()
    {
        const int ClockThreadCpuTimeId = 3;
        ClockGetTime(ClockThreadCpuTimeId, out var ts);
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    internal static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }
}
