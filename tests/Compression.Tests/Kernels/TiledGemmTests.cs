// TiledGemmTests: the blocked prefill GEMM gives bit for bit what the original 4×2 kernel gave, on every ISA level, and so do the fixture's logits.
using System.Security.Cryptography;
using Compression.Inference;
using Compression.Kernels;
using Compression.Quantization;
using Compression.Tests.Model;
using Compression.Tests.Quantization;

namespace Compression.Tests.Kernels;

public class TiledGemmTests
{
    private static void AssertBitIdentical(TensorFormat f, int n, int rows, int cols, int seed)
    {
        var w = TestData.Gaussian(rows * cols, seed);
        var x = TestData.Gaussian(n * cols, seed + 1);
        var packed = TestData.Quantize(f, w, rows, cols);
        var expected = new float[n * rows];
        TiledGemmReference.Run(f, packed, rows, cols, x, n, expected);
        foreach (var level in KernelIsa.Supported())
        {
            var y = new float[n * rows];
            using (KernelIsa.Override(level)) TiledGemm.Run(f, packed, rows, cols, x, n, y);
            for (int i = 0; i < y.Length; i++)
                if (BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                    Assert.Fail($"{f.Name} {level} n={n} {rows}x{cols}: y[token {i / rows}, row {i % rows}] = {y[i]:R}, reference {expected[i]:R}");
        }
    }

    /// <summary>
    /// Token tails (n % 4, and panels of 6 and 4: n − n % 4 ≡ 0, 2, 4 mod 6), odd row counts (the reference's last row is a
    /// plain dot product), partial 8-row groups and tiles, k-tails (cols % 8) and several k-blocks (cols &gt; 512).
    /// </summary>
    [Fact]
    public void Every_output_has_the_reference_bits_across_tails()
    {
        var f = FormatRegistry.Get("f32");
        int seed = 1;
        foreach (int cols in new[] { 5, 13, 100, 1037 })
        foreach (int rows in new[] { 1, 3, 16, 17, 70 })
            foreach (int n in Enumerable.Range(1, 13).Concat([16, 20, 22]))
                AssertBitIdentical(f, n, rows, cols, seed += 2);
    }

    /// <summary>Rows long enough that a tile holds only 8 of them: several tiles per thread, and the row-parallel split.</summary>
    [Fact]
    public void Long_rows_use_small_tiles_and_keep_the_bits()
    {
        Assert.Equal(8, TiledGemm.TileRowsFor(16411));
        foreach (int n in new[] { 5, 12 }) AssertBitIdentical(FormatRegistry.Get("f32"), n, 19, 16411, 7 + n);
    }

    [Theory]
    [InlineData("q4_0")]
    [InlineData("q8_0")]
    [InlineData("f16")]
    [InlineData("q6_k")]
    public void Packed_formats_keep_the_bits(string name)
    {
        var f = FormatRegistry.Get(name);
        int unit = Math.Max(f.BlockSize, 32);
        foreach (var (n, rows) in new[] { (4, 8), (7, 33), (13, 130) })
            AssertBitIdentical(f, n, rows, 3 * unit, 40 + n);
    }

    /// <summary>The test has teeth: the two summation orders the reference mixes really give different bits here.</summary>
    [Fact]
    public void The_reference_orders_differ_so_the_bit_test_can_fail()
    {
        const int n = 8, rows = 16, cols = 1037;
        var w = TestData.Gaussian(rows * cols, 3);
        var x = TestData.Gaussian(n * cols, 4);
        var y = new float[n * rows];
        TiledGemmReference.Run(FormatRegistry.Get("f32"), TestData.Quantize(FormatRegistry.Get("f32"), w, rows, cols), rows, cols, x, n, y);
        int differ = 0;
        unsafe
        {
            fixed (float* px = x, pw = w)
                for (int t = 0; t < n; t++)
                    for (int r = 0; r < rows; r++)
                        if (TiledGemmReference.Dot(px + t * cols, pw + r * cols, cols) != y[t * rows + r]) differ++;
        }
        Assert.True(differ > n * rows / 4, $"only {differ} of {n * rows} outputs differ between the 8-lane and the 4×8-lane order");
    }

    /// <summary>
    /// The fixture's q4_0 and q8_0 GGUFs prefilled with 59 prompt tokens (3 past the last group of 4): SHA-256 of the
    /// logits' float32 bits, little-endian, row-major. Expected hashes from main before this kernel (a707554):
    /// <c>compress logits -m model-q4_0.gguf -t &lt;the first 59 prompt tokens&gt;</c>, the JSON read back as float32.
    /// </summary>
    [Theory]
    [InlineData("model-q4_0.gguf", "74df1bc5fdd31c805ca8652a73bc2aedfc97b026ce3d91e5be2053784e871479")]
    [InlineData("model-q8_0.gguf", "39189559da9ce7139a46ae61268cdf5fd312ca37ee19e573e4b11b3cd80ad631")]
    public void Fixture_prefill_logits_are_unchanged(string file, string sha256)
    {
        var tokens = ReferenceLogits.PromptTokens[..59];
        using var session = ModelSession.Open(TestPaths.TinyLlamaFile(file), new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        foreach (var level in KernelIsa.Supported())
        {
            float[,] logits;
            using (KernelIsa.Override(level)) logits = session.Model.Logits(tokens);
            var bytes = new byte[logits.Length * 4];
            Buffer.BlockCopy(logits, 0, bytes, 0, bytes.Length);
            Assert.True(BitConverter.IsLittleEndian);
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }
}
