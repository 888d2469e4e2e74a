// QuantizeCommandSizeTableTests: the `inspect --config` size table for Llama 3.1 8B against sizes worked out by hand
// from the published shapes (independent arithmetic, not the accounting code's own sums).
using Compression.Model;
using Compression.Quantization;

namespace Compression.Tests.Quantization;

public class QuantizeCommandSizeTableTests
{
    // Llama 3.1 8B: hidden 4096, intermediate 14336, 32 layers, 8 KV heads of 128, vocab 128256, untied.
    private const long Hidden = 4096, Inter = 14336, Layers = 32, Kv = 8 * 128, Vocab = 128256;
    private const long Embedding = Vocab * Hidden;                                            // token_embd = output
    private const long BlockLinear = Layers * (2 * Hidden * Hidden + 2 * Kv * Hidden + 3 * Inter * Hidden);
    private const long Norms = (2 * Layers + 1) * Hidden;

    private static ModelSize Row(string format, string policy) =>
        SizeTable.Rows(LlamaConfig.Llama31_8B).Single(r => r.FormatName == format && r.PolicyLabel == policy);

    [Fact]
    public void Llama31_8B_rows_match_hand_computed_tensor_bytes()
    {
        Assert.Equal(8_030_261_248L, 2 * Embedding + BlockLinear + Norms); // published parameter count

        // f16: every tensor 2 bytes — 16.06 GB.
        Assert.Equal(16_060_522_496L, Row("f16", "all tensors").Bytes);

        // q8_0 under llama.cpp's policy: every 2-D tensor at 34 bytes per 32 weights, norms f32 — 7.95 GiB of tensors.
        long q8 = (2 * Embedding + BlockLinear) / 32 * 34 + Norms * 4;
        Assert.Equal(8_532_934_656L, q8);
        Assert.Equal(q8, Row("q8_0", "llama.cpp").Bytes);
        Assert.Equal(7.95, Math.Round(q8 / (double)(1L << 30), 2));

        // q4_0 under llama.cpp's policy: output.weight at q6_k (210 bytes per 256), token_embd and blocks at 18 per 32.
        long q4 = (Embedding + BlockLinear) / 32 * 18 + Embedding / 256 * 210 + Norms * 4;
        Assert.Equal(4_653_375_488L, q4);
        Assert.Equal(q4, Row("q4_0", "llama.cpp").Bytes);
        Assert.Equal(4.33, Math.Round(q4 / (double)(1L << 30), 2));

        // q1_0 pure: every 2-D tensor at 18 bytes per 128 — the 1-bit size.
        long q1Pure = (2 * Embedding + BlockLinear) / 128 * 18 + Norms * 4;
        Assert.Equal(1_130_283_008L, q1Pure);
        Assert.Equal(q1Pure, Row("q1_0", "pure").Bytes);

        // q1_0 default: embeddings and LM head kept f16.
        long q1Default = BlockLinear / 128 * 18 + 2 * Embedding * 2 + Norms * 4;
        Assert.Equal(3_083_878_400L, q1Default);
        Assert.Equal(q1Default, Row("q1_0", "default").Bytes);

        // tq2_0 / tq1_0 pure: every 2-D tensor at 66 / 54 bytes per 256 (every Llama 3.1 8B row is a multiple of 256).
        long tq2Pure = (2 * Embedding + BlockLinear) / 256 * 66 + Norms * 4;
        long tq1Pure = (2 * Embedding + BlockLinear) / 256 * 54 + Norms * 4;
        Assert.Equal(2_071_298_048L, tq2Pure);
        Assert.Equal(1_694_892_032L, tq1Pure);
        Assert.Equal(tq2Pure, Row("tq2_0", "pure").Bytes);
        Assert.Equal(tq1Pure, Row("tq1_0", "pure").Bytes);
        Assert.Equal(BlockLinear / 256 * 54 + 2 * Embedding * 2 + Norms * 4, Row("tq1_0", "default").Bytes);
        // llama-quantize's own TQ choice puts token_embd at Q4_K, which the workbench lacks: no row claims to be it.
        Assert.DoesNotContain(SizeTable.Rows(LlamaConfig.Llama31_8B), r => r.FormatName.StartsWith("tq") && r.PolicyLabel == "llama.cpp");
        Assert.Throws<NotSupportedException>(() => QuantizationPolicy.LlamaCppDefault(FormatRegistry.Get("tq2_0")));
    }
}
