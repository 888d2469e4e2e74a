// LlamaCppImatrixTests: llama.cpp's imatrix-needing types through the workbench — the matrix is llama-imatrix's statistic
// (checked against a hand computation of block 0's inputs), llama.cpp writes exactly what ggml_quantize_chunk makes with
// that matrix, the matrix changes a k-quant without hurting it, the IQ files run in llama.cpp, bad input is one line.
using Compression.Checkpoints.Gguf;
using Compression.Cli.Commands;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Quantization.Calibration;
using Compression.Tests.Quantization;
using Compression.Training;
using Compression.Training.Corpus;
using Xunit.Abstractions;

namespace Compression.Tests.Engines;

public sealed class LlamaCppImatrixTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("llamacpp-imatrix");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Stories from the proxy's own corpus generator (its training distribution), written once per run.</summary>
    private static readonly Lazy<string> ProxyText = new(() =>
    {
        string path = Path.Combine(TestPaths.NewTempDir("proxy-calibration"), "train.txt");
        File.WriteAllText(path, string.Join("\n\n", new CorpusGenerator(ProxyModel.CorpusSeed).Documents(CorpusSplit.Train, 400)));
        return path;
    });

    private static readonly CalibrationSpec ProxySpec = new(ProxyText.Value, Sequences: 16, Length: 128, Seed: 7);

    /// <summary>The proxy's matrix (16 × 128 tokens), computed once and shared.</summary>
    private static readonly Lazy<ImportanceMatrix> ProxyMatrix = new(() => LlamaCppQuantizer.ComputeImatrix(ProxyGguf.F32, ProxySpec));

    private static byte[] TensorBytes(string gguf, string name)
    {
        using var file = GgufFile.OpenMetadata(gguf);
        long offset, length;
        if (file.FindTensor(name) is { } t) (offset, length) = (t.RelativeOffset, t.ByteLength);
        else
        {
            var f = file.ForeignTensors.Single(x => x.Name == name);
            (offset, length) = (f.RelativeOffset, f.ByteLength);
        }
        var bytes = new byte[length];
        using var stream = File.OpenRead(gguf);
        stream.Position = file.DataOffset + offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static uint TensorType(string gguf, string name)
    {
        using var file = GgufFile.OpenMetadata(gguf);
        return file.FindTensor(name)?.GgmlType ?? file.ForeignTensors.Single(f => f.Name == name).GgmlType;
    }

    private static float[] Floats(byte[] bytes) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();

    [Fact]
    public void The_matrix_is_the_mean_square_of_each_input_column_over_the_calibration_tokens()
    {
        // Block 0's q/k/v read RMSNorm(embedding) · attn_norm: computed here by hand, in float64, from the file's tensors.
        string f32 = TestPaths.TinyLlamaFile("model-f32.gguf");
        string text = Path.Combine(_dir, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat(Experiments.ExperimentInputs.Text + "\n", 6)));
        var spec = new CalibrationSpec(text, Sequences: 3, Length: 24, Seed: 5);
        using var session = ModelSession.Open(f32);
        var set = CalibrationSet.Load(spec, t => session.RequireTokenizer().Encode(t, addBos: true));
        var matrix = ImportanceMatrix.Collect(session.Model, set.Sequences, spec.Label);

        int hidden = session.Config.HiddenSize;
        float[] embedding = Floats(TensorBytes(f32, "token_embd.weight")), norm = Floats(TensorBytes(f32, "blk.0.attn_norm.weight"));
        var expected = new double[hidden];
        int tokens = 0;
        foreach (var sequence in set.Sequences)
            foreach (int id in sequence)
            {
                var e = embedding.AsSpan(id * hidden, hidden);
                double ms = 0;
                foreach (float v in e) ms += (double)v * v;
                double inv = 1 / Math.Sqrt(ms / hidden + session.Config.RmsNormEps);
                for (int j = 0; j < hidden; j++)
                {
                    double x = e[j] * inv * norm[j];
                    expected[j] += x * x;
                }
                tokens++;
            }
        var q = matrix.Entries["blk.0.attn_q.weight"];
        for (int j = 0; j < hidden; j++) Assert.Equal(expected[j] / tokens, q[j], 1e-5 * Math.Max(1, expected[j] / tokens));
        Assert.Equal(q, matrix.Entries["blk.0.attn_k.weight"]); // one input, three weights
        Assert.Equal(q, matrix.Entries["blk.0.attn_v.weight"]);
        Assert.Equal(3 * 24, matrix.Tokens);
        // Every block linear has an entry of its input width; the LM head has none (llama-imatrix's default).
        Assert.Equal(7 * session.Config.NumLayers, matrix.Entries.Count);
        Assert.Equal(session.Config.IntermediateSize, matrix.Entries["blk.1.ffn_down.weight"].Length);
        Assert.DoesNotContain("output.weight", matrix.Entries.Keys);
    }

    [Fact]
    public unsafe void Llama_cpp_writes_what_ggml_quantize_chunk_makes_from_the_same_weights_and_matrix_row()
    {
        var matrix = ProxyMatrix.Value;
        string iq2 = Path.Combine(_dir, "proxy-iq2_xs.gguf");
        var result = LlamaCppQuantizer.Quantize(ProxyGguf.F32, LlamaCppQuantizer.Get("IQ2_XS"), iq2, imatrix: matrix);
        Assert.Equal(matrix.Entries.Count, result.Imatrix!.Entries); // llama.cpp's own log line: it took every entry
        Assert.Contains("iq2_xs", result.Summary.TensorsPerType.Keys);

        const string name = "blk.2.ffn_gate.weight";
        const int iq2Xs = 17; // GGML_TYPE_IQ2_XS
        Assert.Equal((uint)iq2Xs, TensorType(iq2, name));
        float[] weights = Floats(TensorBytes(ProxyGguf.F32, name));
        int cols = matrix.Entries[name].Length, rows = weights.Length / cols;
        byte[] written = TensorBytes(iq2, name);

        // ggml's exported quantizer, called directly on the float rows with the matrix's row for this tensor.
        var chunk = (delegate* unmanaged<int, float*, byte*, long, long, long, float*, nuint>)
            (LlamaCppRuntime.NativeExport("libggml-base", "ggml_quantize_chunk") ?? throw new InvalidOperationException("ggml_quantize_chunk not found"));
        byte[] Reference(float[] importance)
        {
            var dst = new byte[written.Length];
            fixed (float* src = weights, im = importance)
            fixed (byte* d = dst)
                Assert.Equal((nuint)dst.Length, chunk(iq2Xs, src, d, 0, rows, cols, im));
            return dst;
        }
        Assert.Equal(Reference(matrix.Entries[name]), written);
        // The row matters: a flat importance gives other codes.
        Assert.NotEqual(Reference(Enumerable.Repeat(1f, cols).ToArray()), written);

        using (var file = GgufFile.OpenMetadata(iq2))
        {
            Assert.Equal((uint)matrix.Entries.Count, file.TryGetUInt32("quantize.imatrix.entries_count"));
            Assert.Equal((uint)ProxySpec.Sequences, file.TryGetUInt32("quantize.imatrix.chunks_count"));
            Assert.Equal(ProxySpec.Label, file.TryGetString("quantize.imatrix.dataset"));
        }
    }

    /// <summary>
    /// Q4_K_M, with vs without the matrix: every tensor with an entry is rounded differently, and the KL to the float model
    /// on held-out stories drops. On this proxy (16 windows, 4,080 positions, measured once) the matrix took Q4_K_M's KL
    /// from 0.0076 to 0.0052 and Q4_K_S's from 0.0068 to 0.0051; for Q2_K, Q3_K_S, Q3_K_M and IQ4_XS the change was within
    /// one standard error either way, so those would be weak assertions.
    /// </summary>
    [Fact]
    public void The_matrix_changes_a_k_quant_and_lowers_its_kl_to_the_float_model()
    {
        string with = Path.Combine(_dir, "q4km-imatrix.gguf"), without = Path.Combine(_dir, "q4km.gguf");
        LlamaCppQuantizer.Quantize(ProxyGguf.F32, LlamaCppQuantizer.Get("Q4_K_M"), with, imatrix: ProxyMatrix.Value);
        LlamaCppQuantizer.Quantize(ProxyGguf.F32, LlamaCppQuantizer.Get("Q4_K_M"), without);
        int differ = ProxyMatrix.Value.Entries.Keys.Count(n => !TensorBytes(with, n).AsSpan().SequenceEqual(TensorBytes(without, n)));
        Assert.Equal(ProxyMatrix.Value.Entries.Count, differ); // every tensor with an entry was rounded differently
        Assert.True(TensorBytes(with, "output.weight").AsSpan().SequenceEqual(TensorBytes(without, "output.weight"))); // no entry: as before

        // KL to the float model on held-out stories (test split), in llama.cpp.
        using var reference = LlamaCppLanguageModel.Open(ProxyGguf.F32, 256);
        string test = string.Join("\n\n", new CorpusGenerator(ProxyModel.CorpusSeed).Documents(CorpusSplit.Test, 80));
        int[] tokens = reference.Encode(test, addBos: true);
        const int Windows = 8;
        var windows = Enumerable.Range(0, Windows).Select(w => tokens.AsSpan(w * 256, 256).ToArray()).ToList();
        var baseline = windows.Select(w => { var b = new Rows(); reference.ScoreTokens(w, 1, b); return b; }).ToList();
        double Kl(string path)
        {
            using var model = LlamaCppLanguageModel.Open(path, 256);
            double kl = 0;
            int n = 0;
            for (int k = 0; k < Windows; k++)
            {
                var a = new Rows();
                model.ScoreTokens(windows[k], 1, a);
                var b = baseline[k];
                for (int i = 0; i < a.All.Count; i++, n++)
                    for (int v = 0; v < a.All[i].Length; v++) kl += Math.Exp(b.All[i][v]) * (b.All[i][v] - a.All[i][v]);
            }
            return kl / n;
        }
        double klWith = Kl(with), klWithout = Kl(without);
        output.WriteLine($"Q4_K_M KL to f32 over {Windows * 255} positions: with imatrix {klWith:F5}, without {klWithout:F5}");
        Assert.True(klWith < 0.9 * klWithout, $"Q4_K_M with the matrix: KL {klWith:F5} vs {klWithout:F5} without");
    }

    [Theory]
    [InlineData("IQ2_XS", "iq2_xs")]
    [InlineData("IQ1_S", "iq1_s")]
    public void Types_that_need_a_matrix_load_and_run_in_llama_cpp(string type, string main)
    {
        string path = Path.Combine(_dir, $"{type}.gguf");
        var result = LlamaCppQuantizer.Quantize(ProxyGguf.F32, LlamaCppQuantizer.Get(type), path, imatrix: ProxyMatrix.Value);
        Assert.Contains(main, result.Summary.TensorsPerType.Keys);
        Assert.Equal(["output.weight", "token_embd.weight"], result.Imatrix!.TensorsWithout.Order());
        using var model = LlamaCppLanguageModel.Open(path, 64);
        int[] tokens = model.Encode(new CorpusGenerator(ProxyModel.CorpusSeed).Documents(CorpusSplit.Test, 1).First(), addBos: true)[..48];
        var rows = new Rows();
        model.ScoreTokens(tokens, 1, rows);
        Assert.Equal(47, rows.All.Count);
        Assert.All(rows.All, r => Assert.All(r, v => Assert.True(float.IsFinite(v))));
        // The workbench's own forward does not compute with i-quants: it says so in one line naming the file.
        var e = Assert.Throws<InvalidDataException>(() => ModelSession.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains("not supported by the workbench", e.Message);
    }

    [Fact]
    public void The_command_computes_the_matrix_from_calibration_text_and_refuses_without_it()
    {
        var request = new QuantizeCommand.Request(ProxyGguf.F32, "IQ2_XXS", Path.Combine(_dir, "iq2_xxs.gguf"));
        var e = Assert.Throws<ArgumentException>(() => QuantizeCommand.RunLlamaCpp(request, null, default));
        Assert.Contains("add --calibration FILE", e.Message);
        var result = QuantizeCommand.RunLlamaCpp(request with
        {
            Calibration = ProxySpec.File, CalibrationSequences = 4, CalibrationLength = 64, Seed = 3,
        }, null, default);
        Assert.Equal(28, result.Imatrix!.Entries);
        Assert.Contains("iq2_xxs", result.Summary.TensorsPerType.Keys);
        using var file = GgufFile.OpenMetadata(request.Out);
        Assert.Equal("train.txt 4×64 seed 3", file.TryGetString("quantize.imatrix.dataset"));
    }

    [Fact]
    public void Bad_input_is_one_line_and_leaves_no_file()
    {
        string outPath = Path.Combine(_dir, "x.gguf");
        var type = LlamaCppQuantizer.Get("IQ2_XS");
        // A type that needs a matrix, given none.
        Assert.Contains("needs an importance matrix", Assert.Throws<ArgumentException>(() => LlamaCppQuantizer.Quantize(ProxyGguf.F32, type, outPath)).Message);
        // A missing calibration file.
        var missing = Path.Combine(_dir, "missing.txt");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => LlamaCppQuantizer.ComputeImatrix(ProxyGguf.F32, ProxySpec with { File = missing })).Message);
        // A tensor missing from the matrix, and an entry of the wrong length.
        var e = Assert.Throws<InvalidDataException>(() => LlamaCppQuantizer.Quantize(ProxyGguf.F32, type, outPath, imatrix: ProxyMatrix.Value.Without("blk.3.ffn_down.weight")));
        Assert.Contains("no entry for blk.3.ffn_down.weight", e.Message);
        var entries = ProxyMatrix.Value.Entries.ToDictionary(p => p.Key, p => p.Value);
        entries["blk.0.attn_q.weight"] = new float[100];
        e = Assert.Throws<InvalidDataException>(() => LlamaCppQuantizer.Quantize(ProxyGguf.F32, type, outPath, imatrix: new ImportanceMatrix(entries, "x", 1, 1)));
        Assert.Contains("blk.0.attn_q.weight has 100 values; the tensor's rows have 256", e.Message);
        Assert.Contains("non-finite", Assert.Throws<InvalidDataException>(() =>
            new ImportanceMatrix(new Dictionary<string, float[]> { ["blk.0.attn_q.weight"] = [float.NaN] }, "x", 1, 1)).Message);
        Assert.Empty(Directory.GetFiles(_dir));

        // Through the command: one line naming the missing calibration file, exit 1, no stack trace, no file.
        var cli = Robustness.RobustnessFiles.RunCli(["quantize", "--engine", "llama.cpp", "-m", ProxyGguf.F32, "-f", "IQ2_XS",
            "--calibration", missing, "-o", outPath]);
        Assert.Equal(1, cli.Exit);
        Assert.Contains($"error: calibration file not found: {missing}", cli.Err);
        Assert.DoesNotContain("   at ", cli.Err);
        Assert.Empty(Directory.GetFiles(_dir));

        // The ABI probe: the native build this library is (its ggml commit) and the managed struct layout it was read from.
        LlamaCppImatrixNative.CheckLayout(LlamaCppRuntime.GgmlCommit, 56, 24, 32, 264);
        var abi = Assert.Throws<NotSupportedException>(() => LlamaCppImatrixNative.CheckLayout("b1234ab", 56, 24, 32, 264));
        Assert.Contains("ggml commit is b1234ab", abi.Message);
        Assert.Contains("imatrix at 16", Assert.Throws<NotSupportedException>(() => LlamaCppImatrixNative.CheckLayout("815a2a591", 48, 16, 24, 264)).Message);
        Assert.Contains("unknown", Assert.Throws<NotSupportedException>(() => LlamaCppImatrixNative.CheckLayout(null, 56, 24, 32, 264)).Message);
    }

    private sealed class Rows : Compression.Evaluation.ITokenScoreSink
    {
        public readonly List<float[]> All = [];
        public void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs) => All.Add(logProbs.ToArray());
    }

    /// <summary>A sweep lists an i-quant beside the workbench's formats once it has a calibration set: the matrix is computed
    /// on it and the file scored by llama.cpp; without one the spec is refused, naming the format and what to add.</summary>
    [Fact]
    public void A_sweep_with_a_calibration_set_scores_an_i_quant_and_one_without_is_refused()
    {
        string dir = Path.Combine(_dir, "sweep");
        Directory.CreateDirectory(dir);
        string text = Path.Combine(dir, "text.txt");
        File.WriteAllText(text, string.Join("\n\n", new CorpusGenerator(ProxyModel.CorpusSeed).Documents(CorpusSplit.Test, 12)));
        string Spec(bool withCalibration) => $$"""
            {
              "name": "iq",
              "model": { "path": {{System.Text.Json.JsonSerializer.Serialize(ProxyGguf.F32)}} },
              "engines": ["llama.cpp"],
              "formats": ["IQ2_XS"],
              {{(withCalibration ? $"\"calibration\": {{ \"file\": {System.Text.Json.JsonSerializer.Serialize(ProxySpec.File)}, \"sequences\": 8, \"length\": 64, \"seed\": 7 }}," : "")}}
              "tasks": { "perplexity": { "file": "text.txt", "context": 128, "maxTokens": 512 } },
              "output": {{System.Text.Json.JsonSerializer.Serialize(Path.Combine(dir, "results"))}}
            }
            """;
        string without = Path.Combine(dir, "without.json");
        File.WriteAllText(without, Spec(false));
        var e = Assert.Throws<InvalidDataException>(() => Compression.Experiments.ExperimentSpecLoader.Load(without, dir));
        Assert.Contains("IQ2_XS needs an importance matrix: add a calibration set", e.Message);

        string with = Path.Combine(dir, "with.json");
        File.WriteAllText(with, Spec(true));
        var records = Compression.Tests.Experiments.ExperimentInputs.Run(with, dir).Records;
        var iq = records.Single(r => r.Engine == "llama.cpp" && r.Format == "IQ2_XS" && r.Task.Name == "perplexity");
        var baseline = records.Single(r => r.Engine == "llama.cpp" && r.Format != "IQ2_XS" && r.Task.Name == "perplexity");
        double ppl = iq.Metrics[Compression.Reporting.MetricNames.Perplexity].Value;
        double f32 = baseline.Metrics[Compression.Reporting.MetricNames.Perplexity].Value;
        output.WriteLine($"perplexity: f32 {f32:F3}, IQ2_XS {ppl:F3} ({iq.Size!.BitsPerWeight:F2} bits/weight)");
        Assert.True(double.IsFinite(ppl) && ppl > f32 * 0.9 && ppl < f32 * 2, $"IQ2_XS perplexity {ppl} vs f32 {f32}");
        Assert.True(iq.Size!.BitsPerWeight < 3.5, $"IQ2_XS at {iq.Size!.BitsPerWeight} bits/weight");
        Assert.Equal($"{Path.GetFileName(ProxySpec.File)} 8×64 seed 7", iq.Calibration); // the record says which matrix
        Assert.Null(baseline.Calibration);
    }
}
