// Learned block scales (LSQ): the forward is the exported block's dequantization to the bit, the scale's gradient is LSQ's
// (a float64 reference written here from the paper's formulas), training with them lowers the loss and resumes on the
// same curve, and the exported GGUF holds the learned scales and gives the fake-quant student's logits.
using Compression.Checkpoints.Gguf;
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Tests.Training;
using Compression.Training;
using Compression.Training.Qat;
using static TorchSharp.torch;

namespace Compression.Tests.Training.Qat;

public class LearnedScaleTests
{
    private const int Cols = 512; // a multiple of every block: 32, 128, 256

    private static Tensor RandomWeight(int rows, int seed) => normal(0, 0.05, [rows, Cols], generator: new Generator((ulong)seed));

    /// <summary>The format's own scales, each moved by a random factor in [0.5, 1.5): scales training could have reached.</summary>
    private static Tensor MovedScales(Tensor w, TensorFormat format, int seed)
    {
        using var initial = LearnedScale.Initial(w, format);
        return initial.mul(rand(initial.shape, generator: new Generator((ulong)seed)).add(0.5)).contiguous();
    }

    [Theory]
    [InlineData("q1_0")]
    [InlineData("tq2_0")]
    [InlineData("tq1_0")]
    [InlineData("q4_0")]
    [InlineData("q8_0")]
    public void Forward_is_the_dequantized_exported_block_bit_for_bit(string name)
    {
        var format = FormatRegistry.Get(name);
        const int rows = 5;
        using var w = RandomWeight(rows, 3).requires_grad_(true);
        using var s = MovedScales(w, format, 4).requires_grad_(true);
        using var forward = LearnedScale.Apply(w, s, format);
        float[] actual = forward.detach().data<float>().ToArray(), x = w.detach().data<float>().ToArray(), scales = s.detach().data<float>().ToArray();
        var codec = format.Codec!;
        int blocks = Cols / codec.BlockSize;
        var packed = new byte[format.RowBytes(Cols)];
        var expected = new float[Cols];
        var codes = new int[codec.BlockSize];
        int differs = 0;
        for (int r = 0; r < rows; r++)
        {
            // What the export writes for this row, read back by the format's scalar reference dequantizer.
            LearnedScale.EncodeRow(codec, x.AsSpan(r * Cols, Cols), scales.AsSpan(r * blocks, blocks), packed, codes);
            format.DequantizeRowReference(packed, expected);
            for (int j = 0; j < Cols; j++)
            {
                Assert.True(expected[j] == actual[r * Cols + j], $"{name} [{r}, {j}]: forward {actual[r * Cols + j]} vs block {expected[j]}");
                // And by hand: the value is (fp16 learned scale) × the format's rule under it.
                float d = (float)(Half)scales[r * blocks + j / codec.BlockSize], v = x[r * Cols + j];
                float level = name switch
                {
                    "q1_0" => v >= 0 ? 1 : -1,
                    "tq2_0" or "tq1_0" => Math.Clamp(MathF.Round(v * (1f / d), MidpointRounding.AwayFromZero), -1, 1),
                    "q8_0" => Math.Clamp(MathF.Round(v * (1f / d), MidpointRounding.AwayFromZero), -127, 127),
                    _ => Math.Clamp((int)(v * (1f / d) + 8.5f), 0, 15) - 8,
                };
                Assert.Equal(level * d, actual[r * Cols + j]);
                if (level * d != format.Codec!.Value(format.Codec.Code(v, format.Codec.Fit(x.AsSpan(r * Cols + j / codec.BlockSize * codec.BlockSize, codec.BlockSize))),
                        format.Codec.Fit(x.AsSpan(r * Cols + j / codec.BlockSize * codec.BlockSize, codec.BlockSize)))) differs++;
            }
        }
        // The moved scales really changed the weights (this is not the format's own quantization).
        // (Ternary: most weights are 0 under either scale, so a smaller share moves.)
        Assert.True(differs > rows * Cols / 20, $"{name}: only {differs} weights differ from the format-scale quantization");
    }

    [Theory]
    [InlineData("q1_0")]
    [InlineData("tq2_0")]
    [InlineData("q4_0")]
    public void Scale_and_weight_gradients_are_lsqs(string name)
    {
        var format = FormatRegistry.Get(name);
        int n = format.BlockSize, rows = 2, cols = 2 * n;
        using var w0 = normal(0, 0.05, [rows, cols], generator: new Generator(21));
        using var initial = LearnedScale.Initial(w0, format);
        // Scales shrunk to 0.6×: some ternary and 4-bit codes clip, so both branches of LSQ's gradient are exercised.
        using var s = initial.mul(0.6f).contiguous().requires_grad_(true);
        using var w = w0.clone().requires_grad_(true);
        using var upstream = normal(0, 1, [rows, cols], generator: new Generator(22));
        using (var loss = LearnedScale.Apply(w, s, format).mul(upstream).sum()) loss.backward();

        // LSQ (Esser et al. 2019, eq. 3 and §2.2): ŵ = round(clip(w/s, −Q_N, Q_P))·s,
        // ∂ŵ/∂s = −w/s + round(w/s) inside (−Q_N, Q_P), −Q_N or Q_P outside; ∂ŵ/∂w = 1 inside, 0 outside; g = 1/√(N·Q_P).
        // Q1_0 codes the sign whatever the scale: ŵ = s·sign(w), so ∂ŵ/∂s = sign(w) and ∂ŵ/∂w = 1.
        (int qn, int qp) = name switch { "q1_0" => (1, 1), "tq2_0" => (1, 1), _ => (8, 7) };
        double g = 1 / Math.Sqrt(n * (double)qp);
        double[] x = w0.data<float>().ToArray().Select(v => (double)v).ToArray(), c = upstream.data<float>().ToArray().Select(v => (double)v).ToArray();
        float[] scales = s.detach().data<float>().ToArray(), gs = s.grad!.data<float>().ToArray(), gw = w.grad!.data<float>().ToArray();
        int clipped = 0;
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < cols / n; b++)
            {
                double d = (double)(Half)scales[r * (cols / n) + b], expected = 0, scaleOfSum = 0;
                for (int j = b * n; j < (b + 1) * n; j++)
                {
                    int i = r * cols + j;
                    double v = x[i] / d, dsdw, dwdw;
                    if (name == "q1_0") { dsdw = x[i] >= 0 ? 1 : -1; dwdw = 1; }
                    else if (v <= -qn) { dsdw = -qn; dwdw = 0; clipped++; }
                    else if (v >= qp) { dsdw = qp; dwdw = 0; clipped++; }
                    else { dsdw = Math.Round(v, MidpointRounding.AwayFromZero) - v; dwdw = 1; }
                    expected += c[i] * g * dsdw;
                    scaleOfSum += Math.Abs(c[i] * g);
                    Assert.Equal(c[i] * dwdw, gw[i], 1e-6);
                }
                Assert.True(Math.Abs(gs[r * (cols / n) + b] - expected) <= 1e-5 * Math.Max(1, scaleOfSum),
                    $"{name} block ({r}, {b}): scale gradient {gs[r * (cols / n) + b]} vs LSQ {expected}");
            }
        if (name != "q1_0") Assert.True(clipped > 0, "no code clipped: the test would not see LSQ's outer branch");
    }

    /// <summary>A model of one layer whose matrices all hold whole Q1_0 blocks (and TQ2_0's 256: hidden 256).</summary>
    private static LlamaConfig Config => TrainerTestData.TinyConfig with
    {
        HiddenSize = 256, IntermediateSize = 256, NumLayers = 1, NumHeads = 4, NumKeyValueHeadsRaw = 2, HeadDimRaw = 64, VocabSize = 64,
    };

    private static readonly int[] Train = TrainerTestData.Repetitive(4000, period: 41, vocab: 64);
    private static readonly int[] Valid = TrainerTestData.Repetitive(600, period: 41, vocab: 64);

    private static TrainingOptions Options(int steps, double lr) => QatTestData.Options(Config, steps, lr);

    private static Trainer TrainedTeacher() => QatTestData.TrainedTeacher(Config, Train, Valid);

    [Fact]
    public void Learned_scale_qat_lowers_the_loss_trains_the_scales_and_resumes_on_the_same_curve()
    {
        using var teacher = TrainedTeacher();
        using var dir = new TempDirectory();
        var objective = new DistillationObjective(teacher.Model, alpha: 0.9, temperature: 1.0);
        var policy = QuantizationPolicy.PureOf(FormatRegistry.Get("tq2_0"));
        var options = Options(12, 3e-3) with { EvalInterval = 6 };
        Trainer Create(TrainingOptions o, string? checkpoint) => new(o, QatModel.Create(teacher.Model, policy, learnedScale: true), objective, Train, Valid, checkpoint, new QatWeightStore());

        using var straight = Create(options, null);
        var scales = straight.NamedWeights.Where(w => w.Name.EndsWith(".weight_scale", StringComparison.Ordinal)).ToList();
        Assert.Equal(Config.TieWordEmbeddings ? 8 : 9, scales.Count); // embedding, q/k/v/o, gate/up/down, and an untied head
        var before = scales.Select(w => w.Tensor.detach().clone()).ToList();
        var (lossBefore, klBefore) = straight.ValidationMeans();
        straight.Train();
        var (lossAfter, klAfter) = straight.ValidationMeans();
        Assert.True(klAfter < 0.7 * klBefore!.Value, $"validation KL {klBefore:F4} → {klAfter:F4}");
        Assert.True(lossAfter < lossBefore, $"validation loss {lossBefore:F4} → {lossAfter:F4}");
        Assert.All(scales.Zip(before), p => Assert.False(p.First.Tensor.detach().allclose(p.Second, rtol: 0, atol: 0), $"{p.First.Name} did not move"));

        using (var first = Create(options, dir.Sub("run")))
            Assert.Equal(6, first.Train(stopAtStep: 6).Step);
        using var resumed = Trainer.Resume(dir.Sub("run"), state => Create(state.Options, dir.Sub("run")));
        resumed.Train();
        Assert.Equal(12, resumed.History.Count);
        foreach (var (a, b) in straight.History.Zip(resumed.History))
        {
            Assert.Equal(a.Loss, b.Loss, 1e-5);
            Assert.Equal(a.Kl!.Value, b.Kl!.Value, 1e-5);
        }
        Assert.Equal(straight.Evaluations[^1].Kl!.Value, resumed.Evaluations[^1].Kl!.Value, 1e-5);
    }

    [Fact]
    public void Exported_gguf_holds_the_learned_scales_and_gives_the_fake_quant_students_logits()
    {
        using var dir = new TempDirectory();
        var (train, valid) = QatRunTests.WriteText(dir.Root);
        var o = new QatOptions
        {
            Model = TestPaths.TinyLlama, Teacher = TestPaths.TinyLlama, Format = "q1_0", Policy = "pure", Alpha = 0.7, Temperature = 2,
            TrainFile = train, ValidFile = valid, Steps = 3, LearningRate = 2e-3, WarmupSteps = 1, BatchSize = 2, SequenceLength = 32,
            EvalInterval = 3, EvalBatches = 1, CheckpointInterval = 0, Threads = 0, Scale = ScaleModes.Learned,
        };
        var summary = QatRun.Run(o, dir.Sub("out"))!;
        Assert.Equal(ScaleModes.Learned, summary.Options.Scale);
        string checkpoint = Path.Combine(dir.Sub("out"), QatRun.CheckpointFolder);

        // The file's fp16 scale fields are the trained scales (not the mean |w| of the trained weights).
        using (var ckpt = Compression.Checkpoints.CheckpointOpener.Open(checkpoint))
        using (var scaleFile = Compression.Checkpoints.Safetensors.SafetensorsFile.Open(Path.Combine(checkpoint, QatWeightStore.ScalesFileName)))
        using (var file = GgufCheckpoint.Open(summary.Gguf))
        {
            const string name = "model.layers.0.mlp.down_proj.weight";
            float[] learned = scaleFile.Tensors[QatWeightStore.ScaleName(name)].ToFloat32();
            var gguf = file[name];
            int blocks = checked((int)(gguf.Cols / 128)), own = 0;
            for (int r = 0; r < gguf.Rows; r++)
            {
                var row = gguf.Row(r);
                for (int b = 0; b < blocks; b++)
                {
                    Half stored = System.Runtime.InteropServices.MemoryMarshal.Read<Half>(row[(b * 18)..]);
                    Assert.Equal((Half)learned[r * blocks + b], stored);
                }
            }
            float[] masters = ckpt[name].ToFloat32();
            for (int i = 0; i < learned.Length; i++)
                if ((float)(Half)learned[i] == FormatRegistry.Get("q1_0").Codec!.Fit(masters.AsSpan(i * 128, 128)).Scale) own++;
            Assert.True(own < learned.Length / 2, $"{own} of {learned.Length} scales equal the format's own: not learned");
        }

        var tokens = Compression.Tests.Model.ReferenceLogits.PromptTokens;
        float[,] student, packed;
        using (var fakeQuant = ExportCheck.Student(checkpoint, o.QuantizationPolicy, learnedScale: true))
            student = fakeQuant.Logits(tokens);
        using (var session = ModelSession.Open(summary.Gguf, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks }))
            packed = session.Model.Logits(tokens);
        double diff = Compression.Tests.Model.ReferenceLogits.MaxAbsDiff(student, packed);
        Assert.True(diff < 1e-3, $"packed vs fake-quant with learned scales: {diff:E2}");
        // The run's own check, in the workbench and mainline llama.cpp (which quantizes activations on the fly).
        var check = summary.ExportCheck!;
        Assert.True(check.WorkbenchMaxAbs < 1e-3 && check.LlamaCppMaxAbs < 0.15 && check.LlamaCppMeanAbs < 0.02, check.ToString());
    }

    [Fact]
    public void A_format_without_a_single_block_scale_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new QatOptions
        {
            Model = "m", Format = "q6_k", TrainFile = "t", ValidFile = "v", Scale = ScaleModes.Learned,
        }.Validate());
        Assert.Contains("q6_k", e.Message);
        Assert.Throws<ArgumentException>(() => new QatOptions { Model = "m", Format = "q1_0", TrainFile = "t", ValidFile = "v", Scale = "lsq" }.Validate());
    }
}
