// compress export at the command level: options to policies and exporters, and bad input as one clear error.
using Compression.Cli.Commands;
using Compression.Tokenization;

namespace Compression.Tests.Export;

public class ExportCommandTests
{
    private static ExportCommand.Request Request(string to, string format, string outDir) =>
        new(TestPaths.TinyLlama, to, format, outDir) { Block = 32, Context = 64 };

    [Fact]
    public void Onnx_int4_export_writes_the_folder_and_genai_tokenizes_like_the_workbench()
    {
        string dir = Path.Combine(TestPaths.NewTempDir("export-cli"), "onnx");
        string summary = ExportCommand.Run(Request("onnx", "int4", dir), null, default);
        Assert.Contains("14 × MatMulNBits 4-bit, block 32", summary);
        using var model = new Microsoft.ML.OnnxRuntimeGenAI.Model(dir);
        using var tokenizer = new Microsoft.ML.OnnxRuntimeGenAI.Tokenizer(model);
        const string text = "Mira has a red fox.";
        using var sequences = tokenizer.Encode(text);
        var ours = new LlamaTokenizer(TokenizerJson.Load(TestPaths.TinyLlamaFile("tokenizer.json")));
        var expected = ours.Encode(text, addBos: true);
        var got = sequences[0].ToArray();
        Assert.Equal(expected.SkipWhile(t => t == ours.BosId), got.SkipWhile(t => t == ours.BosId));
    }

    [Fact]
    public void Gptq_export_writes_a_folder_the_loaders_open()
    {
        string dir = Path.Combine(TestPaths.NewTempDir("export-cli"), "gptq");
        string summary = ExportCommand.Run(Request("hf-gptq", "int8", dir), null, default);
        Assert.Contains("14 linear layers as GPTQ 8-bit group 32", summary);
        using var checkpoint = Compression.Checkpoints.CheckpointOpener.Open(dir);
        Assert.Equal("gptq8_g32", checkpoint["model.layers.0.mlp.down_proj.weight"].Format.Name);
    }

    [Theory]
    [InlineData("onnx", "q1_0", 32, "--format q1_0")]
    [InlineData("hf-gptq", "q4_0", 32, "--format q4_0")]
    [InlineData("tflite", "int4", 32, "--to tflite")]
    [InlineData("onnx", "int4", 48, "--block 48")]
    public void Bad_options_name_themselves(string to, string format, int block, string expected)
    {
        string dir = Path.Combine(TestPaths.NewTempDir("export-cli"), "out");
        var e = Assert.Throws<ArgumentException>(() => ExportCommand.Run(Request(to, format, dir) with { Block = block }, null, default));
        Assert.Contains(expected, e.Message);
        Assert.False(Directory.Exists(dir));
    }
}
