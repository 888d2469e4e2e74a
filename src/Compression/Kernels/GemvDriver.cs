// GemvDriver: the shared decode loop — checks arguments, quantizes x when asked, splits rows over cores.
namespace Compression.Kernels;

/// <summary>What a row-dot kernel sees: the packed matrix, the activations (float and, when asked, Q8).</summary>
public unsafe struct GemvContext
{
    public byte* W;
    public long RowBytes;
    public int Cols;
    public float* X;
    public ActivationQ8 Act;
    /// <summary>x as Q8_K blocks of 256, for the kernels that pair with them (<see cref="GemvDriver.RunQ8K"/>).</summary>
    public ActivationQ8K ActK;
    public float* Y;
    /// <summary>Format parameter for kernels shared by several formats (group size for int4).</summary>
    public int Param;
    public delegate*<byte*, GemvContext*, float> Dot;
    /// <summary>Optional: four consecutive rows at once (y[0..4) for the rows at W, W + RowBytes, …), so the
    /// activation loads are shared; each row's result must equal <see cref="Dot"/>'s bit for bit.</summary>
    public delegate*<byte*, GemvContext*, float*, void> Dot4;
    /// <summary>Optional: sixteen consecutive rows at once (y[0..16)), run before <see cref="Dot4"/> and <see cref="Dot"/>;
    /// each row's result must equal <see cref="Dot"/>'s bit for bit.</summary>
    public delegate*<byte*, GemvContext*, float*, void> Dot16;
    /// <summary>Per-call tables a kernel built from x before the rows were split (<see cref="GemvDriver.Run"/>'s prepare step).</summary>
    public byte* Tables;
    /// <summary>x·2^112 for the f16 kernels that read weights as 2^-112 times their value (<see cref="HalfConvert.Load32Scaled"/>),
    /// or d_x·2^112 per block for the q4_0 layout kernel that reads its scales that way, written by their prepare step;
    /// null otherwise.</summary>
    public float* XScaled;
    /// <summary>Per activation block, −8·Σ x̂ for the q4_0 layout kernel (written by its prepare step); null otherwise.</summary>
    public int* BlockBias;
    /// <summary>Bytes from a position in a row to the same position in the row this thread reads a few rows later
    /// (<see cref="KernelPrefetch"/>): kernels prefetch <c>p + Ahead</c> as they read <c>p</c>. 0 when off.</summary>
    public long Ahead;
    /// <summary>Where <see cref="Dot16"/> reads row r's group: <c>Layout16 + r·RowBytes</c>, a format's decode layout
    /// (<see cref="DecodeLayout"/>), when set; else <c>W + r·RowBytes</c>.</summary>
    public byte* Layout16;
}

/// <summary>
/// Runs a format's row-dot kernel for every output row: y[r] = dot(row r, x). Format kernels only
/// supply the per-row dot; threading and activation quantization live here so they can be tuned
/// in one place.
/// </summary>
public static unsafe class GemvDriver
{
    /// <summary>Rows per scheduling grain; keeps each chunk's rows contiguous for the prefetcher.</summary>
    private const int Grain = 16;
    /// <summary>Below this many weight bytes the fork/join costs more than it saves.</summary>
    private const long MinParallelBytes = 256 * 1024;

    public static void Run(string format, ReadOnlySpan<byte> packed, int rows, int cols, long rowBytes,
        ReadOnlySpan<float> x, Span<float> y, bool quantizeX, int param, delegate*<byte*, GemvContext*, float> dot,
        delegate*<byte*, GemvContext*, float*, void> dot4 = null, delegate*<byte*, GemvContext*, float*, void> dot16 = null,
        delegate*<GemvContext*, void> prepare = null, byte* layout16 = null)
    {
        Check(format, packed, rows, cols, rowBytes, x, n: 1, y);
        var ctx = new GemvContext { RowBytes = rowBytes, Cols = cols, Param = param, Dot = dot, Dot4 = dot4, Layout16 = layout16 };
        if (quantizeX) ctx.Act = ActivationQ8.Quantize(x[..cols]);
        if (dot16 != null && rows >= 16) ctx.Dot16 = dot16;
        RunAllRows(ref ctx, packed, rows, x, y, prepare);
    }

    /// <summary><see cref="Run"/> with x quantized to Q8_K blocks of 256 (<see cref="GemvContext.ActK"/>), as llama.cpp pairs its k-quant and ternary types.</summary>
    public static void RunQ8K(string format, ReadOnlySpan<byte> packed, int rows, int cols, long rowBytes,
        ReadOnlySpan<float> x, Span<float> y, delegate*<byte*, GemvContext*, float> dot)
    {
        Check(format, packed, rows, cols, rowBytes, x, n: 1, y);
        var ctx = new GemvContext { RowBytes = rowBytes, Cols = cols, Dot = dot, ActK = ActivationQ8K.Quantize(x[..cols]) };
        RunAllRows(ref ctx, packed, rows, x, y);
    }

    /// <summary>Pins the operands into <paramref name="ctx"/> and runs every row over the cores.</summary>
    private static void RunAllRows(ref GemvContext ctx, ReadOnlySpan<byte> packed, int rows, ReadOnlySpan<float> x, Span<float> y,
        delegate*<GemvContext*, void> prepare = null)
    {
        fixed (byte* pw = packed)
        fixed (float* px = x)
        fixed (float* py = y)
        fixed (GemvContext* pc = &ctx)
        {
            ctx.W = pw; ctx.X = px; ctx.Y = py;
            if (prepare != null) prepare(pc);
            ctx.Ahead = KernelPrefetch.Rows * ctx.RowBytes;
            int minRows = (int)Math.Clamp(MinParallelBytes / Math.Max(1, ctx.RowBytes), 1, int.MaxValue);
            RowParallel.For(rows, Grain, minRows, &RunRows, (nint)pc);
        }
    }

    private static void RunRows(nint p, int start, int end)
    {
        var ctx = (GemvContext*)p;
        int r = start;
        if (ctx->Dot16 != null)
        {
            byte* groups = ctx->Layout16 != null ? ctx->Layout16 : ctx->W;
            for (; r + 16 <= end; r += 16) ctx->Dot16(groups + r * ctx->RowBytes, ctx, ctx->Y + r);
        }
        if (ctx->Dot4 != null)
            for (; r + 4 <= end; r += 4) ctx->Dot4(ctx->W + r * ctx->RowBytes, ctx, ctx->Y + r);
        for (; r < end; r++) ctx->Y[r] = ctx->Dot(ctx->W + r * ctx->RowBytes, ctx);
    }

    /// <summary>Shared argument checks for Gemv (n = 1) and Gemm.</summary>
    public static void Check(string format, ReadOnlySpan<byte> packed, int rows, int cols, long rowBytes,
        ReadOnlySpan<float> x, int n, ReadOnlySpan<float> y)
    {
        if (rows < 0 || cols <= 0 || n < 0) throw new ArgumentException($"{format}: bad shape rows={rows} cols={cols} n={n}");
        if (packed.Length < rows * rowBytes)
            throw new ArgumentException($"{format}: packed weight holds {packed.Length} bytes, {rows}x{cols} needs {rows * rowBytes}");
        if (x.Length < (long)n * cols) throw new ArgumentException($"{format}: x holds {x.Length} values, need {(long)n * cols}");
        if (y.Length < (long)n * rows) throw new ArgumentException($"{format}: y holds {y.Length} values, need {(long)n * rows}");
    }
}
