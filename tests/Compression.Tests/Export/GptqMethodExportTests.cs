// GptqMethodExportTests: `compress export --to hf-gptq --method gptq` on the fixture — the folder holds exactly the codes,
// scales and zeros the calibrated GPTQ method made (not RTN's), they lower the layer output error on the calibration
// activations against RTN on the same grid, the read-back checkpoint runs like the method's dequantized weights, and bad
// input is one clear error with nothing left behind.
using System.Text.Json;
using Compression.Checkpoints;
using Compression.Checkpoints.Gptq;
using Compression.Cli.Commands;
using Compression.Export.HfGptq;
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Quantization.Calibration;
using Compression.Quantization.Formats;
using Compression.Quantization.Methods;
using Compression.Tests.Model;
using Compression.Tests.Quantization.Calibration;
using Compression.Tests.Quantization.Methods;
using Compression.Tokenization;
using Xunit.Abstractions;
using ExportOptions = Compression.Export.HfGptq.GptqOptions;

namespace Compression.Tests.Export;

public sealed class GptqMethodExportTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("gptq-method");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ExportCommand.Request Request(string method, int bits, int group, bool asym, string name) =>
        new(TestPaths.TinyLlama, "hf-gptq", $"int{bits}", Path.Combine(_dir, name))
        {
            Block = group, Asymmetric = asym, Method = method, Calibration = CalibratedGgufTests.WriteCalibrationText(_dir), CalibrationSequences = 8, CalibrationLength = 32, Seed = 3,
        };

    private static CalibrationSet Calibration(ExportCommand.Request r, LlamaTokenizer tokenizer) =>
        CalibrationSet.Load(new CalibrationSpec(r.Calibration!, r.CalibrationSequences, r.CalibrationLength, r.Seed), t => tokenizer.Encode(t, addBos: true));

    private static ExportOptions Options(ExportCommand.Request r) =>
        new() { Bits = r.Format == "int8" ? 8 : 4, GroupSize = r.Block, Symmetric = !r.Asymmetric };

    /// <summary>The workbench's in-memory model of the same method, calibration and grid (the harness's path, no files).</summary>
    private static ModelSession MethodModel(ExportCommand.Request r)
    {
        var session = ModelSession.Open(r.Model, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        session.ReplaceModel(CalibratedQuantizer.Apply(session.Model, Options(r).Policy(session.Config), GptqMethod.Default,
            Calibration(r, session.RequireTokenizer()).Sequences));
        return session;
    }

    [Theory]
    [InlineData(4, 32, false)]
    [InlineData(8, 128, true)]
    [InlineData(4, -1, true)] // one group per row, as the reference GPTQ's default: down_proj's rows are 3× longer
    public void The_folder_holds_exactly_the_gptq_methods_codes_and_they_beat_rtn_on_the_calibration_activations(int bits, int group, bool asym)
    {
        var r = Request("gptq", bits, group, asym, "gptq");
        string summary = ExportCommand.Run(r, null, default);
        Assert.Contains($"14 linear layers as GPTQ {bits}-bit group {group} ({(asym ? "asym" : "sym")}, gptq)", summary);
        string rtnDir = Path.Combine(_dir, "rtn");
        ExportCommand.Run(r with { Method = "rtn", Out = rtnDir }, null, default);

        // The record of how the codes were made, beside the loaders' own keys.
        using (var qc = JsonDocument.Parse(File.ReadAllText(Path.Combine(r.Out, "quantize_config.json"))))
        {
            var meta = qc.RootElement.GetProperty("meta");
            Assert.Equal("gptq", meta.GetProperty("method").GetString());
            Assert.Equal("calibration.txt 8×32 seed 3", meta.GetProperty("calibration").GetString());
            Assert.Equal(0.01, qc.RootElement.GetProperty("damp_percent").GetDouble());
            Assert.False(qc.RootElement.GetProperty("desc_act").GetBoolean());
            Assert.Equal(!asym, qc.RootElement.GetProperty("sym").GetBoolean());
            Assert.Equal(group, qc.RootElement.GetProperty("group_size").GetInt32());
        }

        using var method = MethodModel(r);
        using var gptq = GptqCheckpointReader.Open(r.Out);
        using var rtn = GptqCheckpointReader.Open(rtnDir);
        using var source = CheckpointOpener.Open(TestPaths.TinyLlama);
        var block0 = Block0Hessians(r);
        int rowsDifferFromRtn = 0;
        foreach (var (name, layer) in method.Model.LinearLayers().Where(l => l.Name.StartsWith("model.layers.", StringComparison.Ordinal)))
        {
            // Byte for byte: the reader's codes, scales and zeros packed into GptqFormat rows are the method's packed rows.
            var w = Assert.IsType<PackedLinear>(layer).Weight;
            var linear = gptq.Linear(name);
            var rtnLinear = rtn.Linear(name);
            int k = linear.Cols, g0 = group == -1 ? k : group, groups = k / g0;
            var format = new GptqFormat(bits, g0, !asym);
            Assert.Equal(format.Name, w.Format.Name);
            Assert.Equal(g0, linear.GroupSize);
            var row = new byte[format.RowBytes(k)];
            for (int rr = 0; rr < linear.Rows; rr++)
            {
                for (int g = 0; g < groups; g++)
                    format.Pack(linear.Codes.AsSpan(rr * k + g * g0, g0), linear.Scales[rr * groups + g], linear.Zeros[rr * groups + g],
                        row.AsSpan(g * format.BytesPerBlock, format.BytesPerBlock));
                Assert.True(row.AsSpan().SequenceEqual(w.Row(rr)), $"{name} row {rr}: the checkpoint's codes are not the method's");
                if (!linear.Codes.AsSpan(rr * k, k).SequenceEqual(rtnLinear.Codes.AsSpan(rr * k, k))) rowsDifferFromRtn++;
            }

            // Block 0's inputs are the embeddings for both paths, so H there is exactly what GPTQ minimised ΔHΔᵀ against.
            if (!name.StartsWith("model.layers.0.", StringComparison.Ordinal)) continue;
            var h = block0[name["model.layers.0.".Length..^".weight".Length]];
            var original = source[name].ToFloat32();
            double eGptq = GptqTests.OutputError(original, Dequantized(linear), h, linear.Rows, k);
            double eRtn = GptqTests.OutputError(original, Dequantized(rtnLinear), h, linear.Rows, k);
            output.WriteLine($"{name}: output error on the calibration activations, gptq {eGptq:G4} vs rtn {eRtn:G4} (ratio {eGptq / eRtn:F3})");
            Assert.True(eGptq < eRtn, $"{name}: GPTQ's output error {eGptq:G4} is not below RTN's {eRtn:G4} on the same grid");
        }
        output.WriteLine($"{rowsDifferFromRtn} rows differ from RTN's codes");
        Assert.True(rowsDifferFromRtn > 0, "every row equals round-to-nearest — the method's codes were not written");
    }

    /// <summary>
    /// The (normalised) second moments of the inputs of block 0's seven linears over the calibration sequences, observed on
    /// the float model: q/k/v share one input, gate/up another.
    /// </summary>
    private static Dictionary<string, double[]> Block0Hessians(ExportCommand.Request r)
    {
        using var session = ModelSession.Open(r.Model, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        var projections = session.Model.Layers[0].NamedProjections().ToDictionary(p => p.Name, p => p.Layer);
        var stats = projections.ToDictionary(p => p.Key, p => new InputStatistics(p.Value.InFeatures));
        try
        {
            foreach (var (name, layer) in projections) layer.InputObserver = stats[name].Add;
            foreach (var tokens in Calibration(r, session.RequireTokenizer()).Sequences) session.Model.Logits(tokens);
            return stats.ToDictionary(s => s.Key, s => s.Value.SecondMoments());
        }
        finally
        {
            foreach (var layer in projections.Values) layer.InputObserver = null;
            foreach (var s in stats.Values) s.Dispose();
        }
    }

    private static float[] Dequantized(GptqLinear l)
    {
        var w = new float[l.Rows * l.Cols];
        for (int r = 0; r < l.Rows; r++) l.DequantizeRow(r, w.AsSpan(r * l.Cols, l.Cols));
        return w;
    }

    /// <summary>
    /// The exported folder, opened like any checkpoint (packed GptqFormat linears), gives the logits of a dense float32 model
    /// built from the GPTQ method's own packed weights, dequantized, with the other tensors of the input rounded to fp16 as
    /// a GPTQ checkpoint stores them: an independent path (dense matmuls, no GPTQ file involved), measured max |Δ| ~5e-6;
    /// bound 1e-4 (float32 summation order). Against the method's in-memory packed model, which keeps embedding and norms
    /// in float32, the only difference is that fp16 rounding: measured ~4e-3, bound 1e-2.
    /// </summary>
    [Fact]
    public void The_read_back_checkpoint_runs_like_the_methods_dequantized_weights()
    {
        var r = Request("gptq", 4, 32, false, "gptq");
        ExportCommand.Run(r, null, default);
        var tokens = ReferenceLogits.PromptTokens;
        float[,] theirs;
        using (var checkpoint = CheckpointOpener.Open(r.Out))
        {
            Assert.IsType<GptqCheckpoint>(checkpoint);
            using var model = ModelLoader.Load(checkpoint, new ModelLoadOptions
            {
                PackedLinear = PackedLoading.Hooks(TorchSharp.torch.CPU, TorchSharp.torch.ScalarType.Float32).Linear,
            });
            theirs = model.Logits(tokens);
        }
        float[,] packed, dense;
        using (var method = MethodModel(r))
        using (var source = CheckpointOpener.Open(TestPaths.TinyLlama))
        {
            packed = method.Model.Logits(tokens);
            var weights = method.Model.LinearLayers().ToDictionary(l => l.Name, l => l.Layer);
            using var model = LlamaModel.Assemble(source.Config, new MethodParts(source, weights), TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU);
            dense = model.Logits(tokens);
        }
        double toDense = ReferenceLogits.MaxAbsDiff(dense, theirs), toPacked = ReferenceLogits.MaxAbsDiff(packed, theirs);
        double gap = ReferenceLogits.MaxAbsDiff(theirs, ReferenceLogits.Load("numpy.full"));
        output.WriteLine($"read-back GPTQ checkpoint: max |Δlogit| {toDense:G3} to the method's dequantized weights (fp16 rest), " +
            $"{toPacked:G3} to the method's in-memory model (f32 rest); quantization gap to f32 {gap:G3}");
        Assert.True(toDense <= 1e-4, $"max |Δlogit| to the dequantized weights {toDense:G3}");
        Assert.True(toPacked <= 1e-2, $"max |Δlogit| to the in-memory model {toPacked:G3}");
        Assert.True(gap >= 0.05, $"the model is only {gap:G3} from f32 — was it quantized?");
    }

    /// <summary>Dense float32 parts: the method's block linears dequantized by the format's reference, the rest fp16-rounded from the input.</summary>
    private sealed class MethodParts(Checkpoint source, Dictionary<string, LinearLayer> method) : IModelParts
    {
        public TokenEmbedding Embedding(TensorSpec spec) => new DenseEmbedding(Tensor(spec));
        public LinearLayer Linear(TensorSpec spec) => new DenseLinear(Tensor(spec));
        public RmsNorm Norm(TensorSpec spec, double eps) => new(Tensor(spec), eps);

        private TorchSharp.torch.Tensor Tensor(TensorSpec spec)
        {
            if (spec.Layer < 0 || !spec.IsLinear)
                return TorchSharp.torch.tensor(source[spec.Name].ToFloat32().Select(v => (float)(Half)v).ToArray(), spec.Shape);
            var w = ((PackedLinear)method[spec.Name]).Weight;
            var values = new float[w.Rows * w.Cols];
            for (int r = 0; r < w.Rows; r++) w.Format.DequantizeRowReference(w.Row(r), values.AsSpan(r * w.Cols, w.Cols));
            return TorchSharp.torch.tensor(values, spec.Shape);
        }
    }

    [Fact]
    public void Bad_input_is_one_clear_error_and_leaves_no_folder()
    {
        var r = Request("gptq", 4, 32, false, "bad");
        string missing = Path.Combine(_dir, "missing.txt");
        var notFound = Assert.Throws<FileNotFoundException>(() => ExportCommand.Run(r with { Calibration = missing }, null, default));
        Assert.Equal($"calibration file not found: {missing}", notFound.Message);

        string shortText = Path.Combine(_dir, "short.txt");
        File.WriteAllText(shortText, "a few words only");
        var tooShort = Assert.Throws<InvalidDataException>(() => ExportCommand.Run(r with { Calibration = shortText, CalibrationLength = 256 }, null, default));
        Assert.StartsWith($"{shortText}: ", tooShort.Message);
        Assert.Contains("too short for calibration sequences of 256 tokens", tooShort.Message);

        Assert.Equal("--method gptq needs --calibration FILE (a text file of paragraphs, or JSONL with a \"text\" field)",
            Assert.Throws<ArgumentException>(() => ExportCommand.Run(r with { Calibration = null }, null, default)).Message);
        Assert.Equal("--format int3: GPTQ checkpoints hold int4 or int8",
            Assert.Throws<ArgumentException>(() => ExportCommand.Run(r with { Format = "int3" }, null, default)).Message);
        Assert.Equal("--method awq: hf-gptq export writes rtn or gptq codes",
            Assert.Throws<ArgumentException>(() => ExportCommand.Run(r with { Method = "awq" }, null, default)).Message);
        Assert.Equal("--method gptq: calibrated methods export to hf-gptq; --to onnx rounds to nearest",
            Assert.Throws<ArgumentException>(() => ExportCommand.Run(r with { To = "onnx", Format = "int4" }, null, default)).Message);
        Assert.False(Directory.Exists(r.Out));
        Assert.Empty(Directory.GetDirectories(_dir));
    }
}
