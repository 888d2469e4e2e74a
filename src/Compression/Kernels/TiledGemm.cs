// TiledGemm: prefill Y = X·Wᵀ — dequantize a tile of W's rows to fp32 once, then multiply it with every token in cache-sized blocks.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;

namespace Compression.Kernels;

/// <summary>
/// Works for every format through its <see cref="TensorFormat.DequantizeRow"/>. Each thread takes a tile of
/// weight rows (as many as fit in <see cref="TileBytes"/> of fp32, 8 to 64), dequantizes them once into its own
/// scratch in the row-pair layout of <see cref="TiledGemmKernels"/>, and multiplies them with the tokens in
/// panels of 6 (and 4), k-block by k-block: a panel's block of x (6 × 512 floats) stays in L1 while every 8-row group of
/// the tile streams past it from L2. Every output has exactly the bits of <see cref="TiledGemmReference"/>
/// (the committed evaluation results were computed with it): the outputs that kernel summed with a single 8-lane
/// accumulator get the same accumulator here, the others (the n % 4 last tokens, and the last row when the
/// row count is odd) are its <see cref="TiledGemmReference.Dot"/>, taken while the row is freshly dequantized.
/// Y is (n, rows) row-major.
/// </summary>
public static unsafe class TiledGemm
{
    /// <summary>fp32 bytes of one thread's weight tile: half of a 2 MiB L2, the rest for x blocks and accumulators.</summary>
    public const int TileBytes = 1 << 20;

    /// <summary>k-steps of 8 per block: 6 tokens × 512 floats = 12 KiB of x kept in L1.</summary>
    public const int BlockSteps = 64;

    private struct Ctx
    {
        public nint Format; // GCHandle to the TensorFormat
        public byte* W;
        public long RowBytes;
        public int Rows, Cols, N, TileRows;
        public IsaLevel Level;
        public float* X, Y;
    }

    /// <summary>Weight rows per tile for rows of <paramref name="cols"/> floats: a multiple of 8 in [8, 64].</summary>
    public static int TileRowsFor(int cols) => Math.Clamp(TileBytes / (4 * Math.Max(cols, 1)) / 8 * 8, 8, 64);

    public static void Run(TensorFormat format, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y)
    {
        long rb = format.RowBytes(cols);
        GemvDriver.Check(format.Name, packed, rows, cols, rb, x, n, y);
        if (n == 0 || rows == 0) return;
        // The worker threads do not see the caller's KernelIsa override: read the level here, once.
        var level = Fma.IsSupported ? KernelIsa.Current : IsaLevel.Scalar;
        int tileRows = level == IsaLevel.Scalar ? TiledGemmReference.TileRows : TileRowsFor(cols);
        var handle = GCHandle.Alloc(format);
        try
        {
            fixed (byte* pw = packed)
            fixed (float* px = x)
            fixed (float* py = y)
            {
                var ctx = new Ctx
                {
                    Format = GCHandle.ToIntPtr(handle), W = pw, RowBytes = rb, Rows = rows, Cols = cols, N = n,
                    TileRows = tileRows, Level = level, X = px, Y = py,
                };
                int tiles = (rows + tileRows - 1) / tileRows;
                if (level == IsaLevel.Scalar) RowParallel.For(tiles, 1, 2, &RunReferenceTiles, (nint)(&ctx));
                else RowParallel.For(tiles, 1, 2, &RunTiles, (nint)(&ctx));
            }
        }
        finally { handle.Free(); }
    }

    /// <summary>The scalar level: the reference kernel itself (it is the definition of the bits), tile by tile.</summary>
    private static void RunReferenceTiles(nint p, int firstTile, int endTile)
    {
        var c = (Ctx*)p;
        var format = (TensorFormat)GCHandle.FromIntPtr(c->Format).Target!;
        int cols = c->Cols, tileRows = c->TileRows;
        float* buf = (float*)Scratch.Get(1, (nuint)((long)tileRows * cols * sizeof(float)));
        for (int t = firstTile; t < endTile; t++)
        {
            int r0 = t * tileRows;
            int tr = Math.Min(tileRows, c->Rows - r0);
            for (int i = 0; i < tr; i++)
                format.DequantizeRow(new ReadOnlySpan<byte>(c->W + (r0 + i) * c->RowBytes, (int)c->RowBytes), new Span<float>(buf + i * cols, cols));
            TiledGemmReference.MultiplyTile(c->X, c->N, buf, tr, cols, c->Y + r0, c->Rows);
        }
    }

    private static void RunTiles(nint p, int firstTile, int endTile)
    {
        var c = (Ctx*)p;
        var format = (TensorFormat)GCHandle.FromIntPtr(c->Format).Target!;
        int cols = c->Cols, rows = c->Rows, n = c->N, tileRows = c->TileRows;
        int steps = cols / 8, tailStart = steps * 8;
        int groups = tileRows / TiledGemmKernels.GroupRows;
        // Outputs the reference summed with one 8-lane accumulator: tokens in whole groups of 4, rows in pairs.
        int n4 = n & ~3;
        int oddLast = (rows & 1) == 1 ? rows - 1 : -1;
        float* x = c->X, y = c->Y;

        long packedFloats = (long)groups * steps * TiledGemmKernels.StepFloats;
        long rowFloats = (cols + 15) & ~15;
        long accFloats = (long)groups * TiledGemmKernels.AccFloats;
        float* packed = (float*)Scratch.Get(1, (nuint)((packedFloats + rowFloats + 64 * 8 + accFloats) * sizeof(float)));
        float* row = packed + packedFloats;
        float* tails = row + rowFloats; // tileRows × 8: each row's last cols % 8 weights
        float* acc = tails + 64 * 8;

        for (int tile = firstTile; tile < endTile; tile++)
        {
            int r0 = tile * tileRows;
            int tr = Math.Min(tileRows, rows - r0);
            int usedGroups = (tr + 7) / 8;
            for (int i = 0; i < tileRows && i < usedGroups * 8; i++)
            {
                if (i < tr)
                {
                    format.DequantizeRow(new ReadOnlySpan<byte>(c->W + (r0 + i) * c->RowBytes, (int)c->RowBytes), new Span<float>(row, cols));
                    int r = r0 + i;
                    for (int t = r == oddLast ? 0 : n4; t < n; t++) y[(long)t * rows + r] = TiledGemmReference.Dot(x + (long)t * cols, row, cols);
                    for (int k = tailStart; k < cols; k++) tails[i * 8 + k - tailStart] = row[k];
                }
                else new Span<float>(row, cols).Clear(); // padding rows of the last tile: computed, never written
                Pack(row, steps, packed, i);
            }
            if (n4 == 0) continue;

            for (int t0 = 0, tm; t0 < n4; t0 += tm)
            {
                tm = TiledGemmKernels.PanelSize(t0, n4);
                float* xp = x + (long)t0 * cols;
                int s0 = 0;
                do // at least once, so that cols < 8 still starts every accumulator at zero
                {
                    int blockSteps = Math.Min(BlockSteps, steps - s0);
                    for (int g = 0; g < usedGroups; g++)
                    {
                        float* wg = packed + ((long)g * steps + s0) * TiledGemmKernels.StepFloats;
                        float* ag = acc + g * TiledGemmKernels.AccFloats;
                        if (c->Level == IsaLevel.Avx512) TiledGemmKernels.Avx512(xp + 8 * s0, cols, wg, blockSteps, ag, s0 == 0, tm);
                        else TiledGemmKernels.Avx2(xp + 8 * s0, cols, wg, blockSteps, ag, s0 == 0, tm);
                    }
                    s0 += blockSteps;
                } while (s0 < steps);
                Finish(acc, x, t0, tm, cols, tailStart, tails, tr, r0, oddLast, y, rows);
            }
        }
    }

    /// <summary>Row <paramref name="i"/> of the tile into the row-pair layout: pair (i/8, (i%8)/2), half i%2.</summary>
    private static void Pack(float* row, int steps, float* packed, int i)
    {
        float* dst = packed + (long)(i / 8) * steps * TiledGemmKernels.StepFloats + (i % 8 / 2) * 16 + (i % 2) * 8;
        for (int s = 0; s < steps; s++)
            Vector256.Store(Vector256.Load(row + 8 * s), dst + (long)s * TiledGemmKernels.StepFloats);
    }

    /// <summary>The reference's last steps per output: horizontal sum of its 8 lanes, then the k-tail one product at a time.</summary>
    private static void Finish(float* acc, float* x, int t0, int tm, int cols, int tailStart, float* tails, int tr, int r0, int oddLast, float* y, int rows)
    {
        for (int tt = 0; tt < tm; tt++)
        {
            float* xt = x + (long)(t0 + tt) * cols;
            float* yt = y + (long)(t0 + tt) * rows;
            for (int i = 0; i < tr; i++)
            {
                int r = r0 + i;
                if (r == oddLast) continue;
                float* lanes = acc + (i / 8) * TiledGemmKernels.AccFloats + tt * 64 + (i % 8 / 2) * 16 + (i % 2) * 8;
                float s = IntDot.HSum(Avx.LoadVector256(lanes));
                for (int k = tailStart; k < cols; k++) s += xt[k] * tails[i * 8 + k - tailStart];
                yt[r] = s;
            }
        }
    }
}
