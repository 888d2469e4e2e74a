// Tests that a SentencePiece or Qwen vocabulary travels with a checkpoint: HF directory (tokenizer.json) → GGUF export →
// llama.cpp loads the whole model and tokenizes as the workbench does from either file.
using Compression.Checkpoints.Gguf;
using Compression.Checkpoints.Safetensors;
using Compression.Engines.LlamaCpp;
using Compression.Model;
using Compression.Quantization;
using Compression.Tokenization;

namespace Compression.Tests.Tokenization;

public class TokenizerCheckpointTests
{
    public static TheoryData<string> Kinds() => new() { "spm", "qwen" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Hf_checkpoint_exported_to_gguf_keeps_its_tokenizer(string kind)
    {
        TokenizerData vocab = kind == "spm"
            ? SentencePieceTestVocab.Train(SentencePieceTestVocab.TrainingTexts(), merges: 300)
            : BpeTrainer.Train(SentencePieceTestVocab.TrainingTexts(), 600, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]) with
            {
                Pre = "qwen2", IgnoreMerges = false, AddBos = false, NormalizeNfc = true,
            };
        var config = new LlamaConfig
        {
            HiddenSize = 64, IntermediateSize = 128, NumLayers = 1, NumHeads = 4, NumKeyValueHeadsRaw = 2,
            VocabSize = vocab.Tokens.Count, MaxPositionEmbeddings = 256, RopeTheta = 10000,
        };
        string dir = TestPaths.NewTempDir("tok-ckpt-" + kind);
        SyntheticCheckpoint.Write(config, Path.Combine(dir, "hf"), FormatRegistry.F32, 1L << 40, seed: 3, tokenizer: vocab);
        string gguf = Path.Combine(dir, "model.gguf");
        LlamaTokenizer fromHf;
        using (var hf = SafetensorsCheckpoint.Open(Path.Combine(dir, "hf")))
        {
            fromHf = hf.CreateTokenizer()!;
            Assert.Equal(vocab.Kind, fromHf.Data.Kind);
            GgufExporter.Write(hf, hf.LoadTokenizerData(), (_, _) => FormatRegistry.F32, gguf);
        }
        LlamaTokenizer fromGguf;
        using (var g = GgufCheckpoint.Open(gguf)) fromGguf = g.CreateTokenizer()!;
        Assert.Equal(vocab.Kind, fromGguf.Data.Kind);

        using var reference = LlamaCppVocabulary.Load(gguf);
        foreach (string text in TokenizerReferenceCorpus.Texts)
        {
            int[] expected = reference.Tokenize(text, addSpecial: true, parseSpecial: true);
            Assert.Equal(expected, fromGguf.Encode(text, parseSpecial: true));
            // tokenizer.json: the same ids, except that Qwen's applies NFC first.
            string hfText = fromHf.Data.NormalizeNfc ? text.Normalize(System.Text.NormalizationForm.FormC) : text;
            Assert.Equal(reference.Tokenize(hfText, addSpecial: true, parseSpecial: true), fromHf.Encode(text, parseSpecial: true));
        }
        // The whole model loads in llama.cpp and runs on the workbench's tokens.
        using var model = LlamaCppModel.Load(gguf, new LlamaCppOptions { Threads = 1, ContextSize = 64, BatchSize = 64, ExactAttention = true });
        var logits = model.Logits(fromGguf.Encode("Hello world, it's 2024."));
        Assert.Equal(vocab.Tokens.Count, logits.GetLength(1));
    }
}
