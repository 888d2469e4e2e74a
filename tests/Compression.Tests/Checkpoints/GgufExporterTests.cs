// GgufExporterTests: exports reproduce llama.cpp's converter output byte for byte, quantize through the
// chosen format, and leave nothing behind when cancelled.
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Model;
using Compression.Quantization;

namespace Compression.Tests.Checkpoints;

public class GgufExporterTests
{
    private static readonly string FixtureGguf = TestPaths.TinyLlamaFile("model-f32.gguf");

    private static TensorFormat AllF32(TensorSpec spec, string ggufName) => FormatRegistry.F32;

    [Fact]
    public void GgufToF32GgufReproducesTheFixtureFile()
    {
        string dir = TestPaths.NewTempDir("gguf-export");
        string outPath = Path.Combine(dir, "out.gguf");
        using var input = GgufCheckpoint.Open(FixtureGguf);
        var result = GgufExporter.Write(input, input.Tokenizer!, AllF32, outPath);
        Assert.Equal(0u, result.FileType);
        Assert.Equal(File.ReadAllBytes(FixtureGguf), File.ReadAllBytes(outPath)); // whole file, metadata included
    }

    [Fact]
    public void HfToF32GgufReproducesLlamaCppsConverter()
    {
        // Independent path: HF rows permuted by the exporter, rope factors computed from config.json.
        string dir = TestPaths.NewTempDir("gguf-export");
        string outPath = Path.Combine(dir, "out.gguf");
        using var reference = GgufCheckpoint.Open(FixtureGguf);
        using var hf = Compression.Checkpoints.Safetensors.SafetensorsCheckpoint.Open(TestPaths.TinyLlama);
        GgufExporter.Write(hf, reference.Tokenizer!, AllF32, outPath, new GgufExportOptions { Name = "tiny", ChunkBytes = 1000 });
        Assert.Equal(File.ReadAllBytes(FixtureGguf), File.ReadAllBytes(outPath));
    }

    /// <summary>
    /// Once the quantized formats are registered (another branch), a --pure export of the f32 fixture must equal
    /// what llama-quantize --pure wrote: the whole file for q8_0/q4_0; the tensor data for q1_0, whose fixture
    /// carries file_type 7 where the exporter writes none. Formats not yet registered are not checked here.
    /// </summary>
    [Fact]
    public void PureQuantizedExportReproducesLlamaQuantize()
    {
        using var input = GgufCheckpoint.Open(FixtureGguf);
        foreach (var (file, formatName, wholeFile) in new[] { ("model-q8_0.gguf", "q8_0", true), ("model-q4_0.gguf", "q4_0", true), ("model-q1_0.gguf", "q1_0", false) })
        {
            if (FormatRegistry.TryGet(formatName) is not { } format) continue;
            string outPath = Path.Combine(TestPaths.NewTempDir("gguf-export"), file);
            var policy = QuantizationPolicy.PureOf(format);
            GgufExporter.Write(input, input.Tokenizer!, (spec, name) => policy.Choose(spec, name), outPath);
            string reference = TestPaths.TinyLlamaFile(file);
            if (wholeFile) { Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(outPath)); continue; }
            using var expected = GgufFile.Open(reference);
            using var actual = GgufFile.Open(outPath);
            Assert.Equal(expected.Tensors.Select(t => t.Name), actual.Tensors.Select(t => t.Name));
            foreach (var (e, a) in expected.Tensors.Zip(actual.Tensors))
                Assert.True(expected.Mapped.Span(e.Offset, (int)e.ByteLength).SequenceEqual(actual.Mapped.Span(a.Offset, (int)a.ByteLength)), $"{file}: {e.Name} differs");
        }
    }

    [Theory]
    [InlineData("f16", 1u)]
    [InlineData("bf16", 32u)]
    public void HalfPrecisionExportHoldsRoundedWeights(string formatName, uint fileType)
    {
        var format = FormatRegistry.Get(formatName);
        string outPath = Path.Combine(TestPaths.NewTempDir("gguf-export"), "out.gguf");
        using var input = GgufCheckpoint.Open(FixtureGguf);
        var seen = new List<(string, string)>();
        var result = GgufExporter.Write(input, input.Tokenizer!, (spec, gguf) => { seen.Add((spec.Name, gguf)); return format; }, outPath);
        Assert.Equal(fileType, result.FileType);
        Assert.Contains(("model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight"), seen);
        Assert.DoesNotContain(seen, s => s.Item1.Contains("norm")); // norms are never offered: always f32

        using var output = GgufCheckpoint.Open(outPath);
        Assert.Equal(fileType, output.File.GetUInt32("general.file_type"));
        Assert.False(output.File.ContainsKey("general.quantization_version")); // float formats are not "quantized"
        Assert.Equal(input.RopeFrequencyFactors, output.RopeFrequencyFactors);
        foreach (var (name, original) in input.Tensors)
        {
            var written = output[name];
            Assert.Equal(original.Shape, written.Shape);
            float[] src = original.ToFloat32(), got = written.ToFloat32();
            if (original.Shape.Length == 1)
            {
                Assert.Equal(FormatRegistry.F32, written.Format);
                Assert.Equal(src, got);
                continue;
            }
            Assert.Equal(format, written.Format);
            // Each weight is the format's rounding of the original, in the same (un-permuted) position.
            var expected = new byte[format.RowBytes(src.Length)];
            format.QuantizeRowReference(src, expected);
            var roundTripped = new float[src.Length];
            format.DequantizeRowReference(expected, roundTripped);
            Assert.Equal(roundTripped, got);
        }
    }

    [Fact]
    public void AVocabularyShorterThanTheEmbeddingIsPaddedAsLlamaCppsConverterPadsIt()
    {
        // The proxy's tokenizer.json holds 971 tokens for 1024 embedding rows; llama.cpp refuses a GGUF whose token list
        // is shorter than token_embd, so the converter appends "[PAD<id>]" tokens of type unused.
        using var file = GgufFile.Open(Compression.Tests.Quantization.ProxyGguf.F32);
        var tokens = file.GetStringArray("tokenizer.ggml.tokens");
        var types = file.GetArray<int>("tokenizer.ggml.token_type");
        Assert.Equal(1024, tokens.Length);
        Assert.Equal(1024, types.Length);
        Assert.Equal("[PAD971]", tokens[971]);
        Assert.Equal("[PAD1023]", tokens[1023]);
        Assert.All(types[971..], t => Assert.Equal((int)Compression.Tokenization.TokenType.Unused, t));
        Assert.NotEqual((int)Compression.Tokenization.TokenType.Unused, types[970]);
    }

    [Fact]
    public void UnsupportedChoiceIsRejectedBeforeWriting()
    {
        string dir = TestPaths.NewTempDir("gguf-export");
        using var input = GgufCheckpoint.Open(FixtureGguf);
        var odd = new OddBlockFormat();
        var e = Assert.Throws<ArgumentException>(() => GgufExporter.Write(input, input.Tokenizer!, (_, _) => odd, Path.Combine(dir, "x.gguf")));
        Assert.Contains("no GGUF type", e.Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void CancelledExportLeavesNoFile()
    {
        string dir = TestPaths.NewTempDir("gguf-export");
        string outPath = Path.Combine(dir, "out.gguf");
        using var input = GgufCheckpoint.Open(FixtureGguf);
        using var cts = new CancellationTokenSource();
        var reports = new List<GgufExportProgress>();
        // Synchronous progress: cancel once a few tensors are written.
        var progress = new SyncProgress(p => { reports.Add(p); if (p.TensorIndex == 5) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            GgufExporter.Write(input, input.Tokenizer!, AllF32, outPath, new GgufExportOptions { ChunkBytes = 4096 }, progress, cts.Token));
        Assert.Empty(Directory.GetFiles(dir));
        Assert.True(reports.Count > 5);
        Assert.All(reports, r => Assert.True(r.BytesWritten <= r.TotalBytes));
    }

    [Fact]
    public void ProgressReachesTheTotal()
    {
        string outPath = Path.Combine(TestPaths.NewTempDir("gguf-export"), "out.gguf");
        using var input = GgufCheckpoint.Open(FixtureGguf);
        var reports = new List<GgufExportProgress>();
        var result = GgufExporter.Write(input, input.Tokenizer!, AllF32, outPath, progress: new SyncProgress(reports.Add));
        Assert.Equal(reports[^1].TotalBytes, reports[^1].BytesWritten);
        Assert.Equal(input.File.Tensors.Count, result.Tensors.Count);
        Assert.Equal(input.File.Tensors.Select(t => t.Name), result.Tensors.Select(t => t.GgufName));
    }

    private sealed class SyncProgress(Action<GgufExportProgress> report) : IProgress<GgufExportProgress>
    {
        public void Report(GgufExportProgress value) => report(value);
    }

    /// <summary>A workbench-only format (no GGUF type id), as INT4-group is.</summary>
    private sealed class OddBlockFormat : TensorFormat
    {
        public override string Name => "test-only";
        public override int BlockSize => 1;
        public override int BytesPerBlock => 4;
        public override int NominalBits => 32;
        public override string Description => "test";
        public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst) => throw new NotSupportedException();
        public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst) => throw new NotSupportedException();
    }
}
