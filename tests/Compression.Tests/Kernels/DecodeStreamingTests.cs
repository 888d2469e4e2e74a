// DecodeStreamingTests: what the decode kernels do to read weights faster must not change a bit — prefetching rows
// ahead (past the end of the weights too) and q4_0's masked-nibble VNNI lanes, at the activations where they stop being exact.
using System.Runtime.InteropServices;
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public unsafe class DecodeStreamingTests
{
    public static TheoryData<string> Formats => TestData.FormatNames();

    [DllImport("libc", SetLastError = true)]
    private static extern nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int mprotect(nint addr, nuint length, int prot);

    [DllImport("libc", SetLastError = true)]
    private static extern int munmap(nint addr, nuint length);

    private const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20;

    /// <summary>
    /// Kernels prefetch the rows a few rows ahead of the one they read, so the last rows of a matrix prefetch past its
    /// end. Here the weights end exactly where an inaccessible page begins (as a mapped checkpoint's last tensor can):
    /// a load there would kill the process, a prefetch must not — and the results equal the same matrix's in ordinary
    /// memory.
    /// </summary>
    [Theory, MemberData(nameof(Formats))]
    public void Weights_that_end_at_an_inaccessible_page_give_the_same_results(string name)
    {
        if (!OperatingSystem.IsLinux()) return;
        var f = FormatRegistry.Get(name);
        int cols = TestData.RowLengths(f).Max(), rows = 9;
        var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, 31), rows, cols);
        var x = TestData.Gaussian(cols, 32);
        nuint page = 4096, dataPages = (nuint)((packed.Length + 4095) / 4096), guardPages = 64;
        nuint total = (dataPages + guardPages) * page;
        nint map = mmap(0, total, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        Assert.NotEqual(-1, (long)map);
        try
        {
            Assert.Equal(0, mprotect(map + (nint)(dataPages * page), guardPages * page, ProtNone));
            byte* end = (byte*)map + dataPages * page;
            var mapped = new Span<byte>(end - packed.Length, packed.Length);
            packed.CopyTo(mapped);
            foreach (var level in KernelIsa.Supported())
            {
                var expected = new float[rows];
                var actual = new float[rows];
                using (KernelIsa.Override(level))
                {
                    f.Gemv(packed, rows, cols, x, expected);
                    f.Gemv(mapped, rows, cols, x, actual);
                }
                for (int r = 0; r < rows; r++)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[r]) == BitConverter.SingleToInt32Bits(actual[r]),
                        $"{name} {level} row {r}: {actual[r]:R} before the guard page vs {expected[r]:R}");
            }
        }
        finally { munmap(map, total); }
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("off", 0)]
    [InlineData(" OFF ", 0)]
    [InlineData("0", 0)]
    [InlineData("8", 8)]
    [InlineData("-1", null)]
    [InlineData("65", null)]
    [InlineData("lots", null)]
    public void Prefetch_setting_is_parsed_or_ignored(string? value, int? rows) =>
        Assert.Equal(rows, KernelPrefetch.Parse(value));

    /// <summary>
    /// The four-row kernels ask, one pass ahead, for the lines of each step they read (two blocks of a row): every line of
    /// a row must be asked for, or the core stalls a whole memory latency on it. Simulated over a 14336-column row of each
    /// format the kernels serve, from every 4-byte-aligned start within a line (GGUF tensor data is 32-aligned): the lines
    /// <see cref="KernelPrefetch.Step"/> asks for are the lines the row's bytes occupy (its last line may be left to the
    /// next row's first step, which shares it), and no others. The first byte's line
    /// alone — what q8_0's kernel did until it measured a third slower than a plain read — fails this for q8_0.
    /// </summary>
    [Theory]
    [InlineData("q4_0")]
    [InlineData("q8_0")]
    public void Four_row_prefetch_steps_ask_for_every_line_of_a_row(string name)
    {
        var f = FormatRegistry.Get(name);
        const int cols = 14336;
        int step = 2 * f.BytesPerBlock, steps = cols / f.BlockSize / 2;
        for (int start = 0; start < 64; start += 4)
        {
            var asked = new HashSet<long>();
            for (int k = 0; k < steps; k++)
            {
                long p = start + (long)k * step;
                asked.Add(p / 64);
                int last = KernelPrefetch.LastOffset(step);
                if (last != 0) asked.Add((p + last) / 64);
            }
            // The row's last line may hold the next row's first bytes, which that row's first step asks for.
            long end = start + (long)steps * step;
            for (long line = start / 64; line < (end - 1) / 64; line++)
                Assert.True(asked.Contains(line), $"{name} from byte {start}: line {line} of the row is never asked for");
            Assert.True(asked.All(l => l >= start / 64 && l <= (end - 1) / 64), $"{name}: a prefetch outside the row's bytes");
        }
    }

    /// <summary>
    /// q4_0's VNNI lanes mask the high nibbles in place (16× their value) and divide the activation scale by 16 for
    /// them, which is exact while d_w·d/16 stays a normal float and d_w·d does not overflow. Activation scales are fp16
    /// values, so only an infinite one (a block with |x| past 127·65504) leaves that range; then the kernel takes the
    /// shifted lanes. Either way every row of the matrix equals its own one-row GEMV, with and without VNNI.
    /// </summary>
    [Theory]
    [InlineData(1f, true)]
    [InlineData(1e-7f, true)]     // block scales round to fp16 zero or subnormals: still exact
    [InlineData(1e-12f, true)]    // every block scale zero
    [InlineData(1e4f, true)]
    [InlineData(1e7f, false)]     // infinite block scales
    public void Q4_0_rows_equal_their_own_gemv_at_extreme_activations(float scale, bool hi16Exact)
    {
        var f = FormatRegistry.Get("q4_0");
        const int rows = 13, cols = 256;
        int rb = checked((int)f.RowBytes(cols));
        var packed = TestData.Quantize(f, TestData.Gaussian(rows * cols, 41), rows, cols);
        var x = TestData.Gaussian(cols, 42).Select(v => v * scale).ToArray();
        x[0] = 3f; // one ordinary block among the extreme ones
        Assert.Equal(hi16Exact, ActivationQ8.Quantize(x).Hi16Exact);
        foreach (var level in KernelIsa.Supported().Where(l => l != IsaLevel.Scalar))
        foreach (bool extensions in new[] { true, false })
        {
            using var _ = KernelIsa.Override(level);
            using var __ = extensions ? null : KernelIsa.WithoutExtensions();
            var all = new float[rows];
            f.Gemv(packed, rows, cols, x, all);
            for (int r = 0; r < rows; r++)
            {
                var one = new float[1];
                f.Gemv(packed.AsSpan(r * rb, rb), 1, cols, x, one);
                Assert.True(BitConverter.SingleToInt32Bits(all[r]) == BitConverter.SingleToInt32Bits(one[0]),
                    $"x·{scale} {level} extensions={extensions} row {r}: {all[r]:R} in the matrix vs {one[0]:R} alone");
            }
        }
    }
}
