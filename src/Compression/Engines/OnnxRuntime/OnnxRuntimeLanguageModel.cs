// OnnxRuntimeLanguageModel: an exported ONNX folder (compress export --to onnx) as an evaluation engine — ONNX Runtime
// answers the log-likelihood questions, the folder's tokenizer.json tokenizes.
using System.Text.Json;
using Compression.Evaluation;
using Compression.Export.Onnx;
using Compression.Tokenization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compression.Engines.OnnxRuntime;

/// <summary>
/// Runs the genai-layout graph with plain ONNX Runtime: each call is one prefill of batch 1 with an empty past
/// (GroupQueryAttention takes a zero-length past), which is what <see cref="LogitsLanguageModelBase"/> asks for.
/// Sizes come from <c>genai_config.json</c>; the context is its <c>context_length</c> (the rotary cache length).
/// </summary>
public sealed class OnnxRuntimeLanguageModel : LogitsLanguageModelBase, IOwnedLanguageModel
{
    private readonly InferenceSession _session;
    private readonly LlamaTokenizer _tokenizer;
    private readonly int _layers, _kvHeads, _headSize, _vocab, _context;

    /// <summary>Name records and errors carry.</summary>
    public const string EngineName = "onnxruntime";

    public string Directory => Folder.Directory;

    private OnnxRuntimeLanguageModel(OnnxModelFolder folder, InferenceSession session, LlamaTokenizer tokenizer)
    {
        Folder = folder; _session = session; _tokenizer = tokenizer;
        _layers = folder.Layers; _kvHeads = folder.KeyValueHeads; _headSize = folder.HeadSize; _vocab = folder.VocabSize; _context = folder.ContextLength;
    }

    /// <summary>The folder as read (sizes, parameters, stored format).</summary>
    public OnnxModelFolder Folder { get; }

    /// <summary>Opens an exported folder; errors name the engine, the folder and what is wrong with it.</summary>
    public static OnnxRuntimeLanguageModel Open(string dir, int threads = 0)
    {
        var folder = OnnxModelFolder.Open(dir, EngineName);
        LlamaTokenizer tok;
        try { tok = new LlamaTokenizer(TokenizerJson.Load(folder.TokenizerPath)); }
        catch (Exception e) when (e is InvalidDataException or JsonException or ArgumentException or NotSupportedException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{EngineName}: {dir}: cannot read its tokenizer.json ({e.Message})");
        }
        InferenceSession session;
        try
        {
            using var options = new SessionOptions { IntraOpNumThreads = threads };
            session = new InferenceSession(folder.ModelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{EngineName}: cannot load {folder.ModelPath}: {e.Message}");
        }
        return new OnnxRuntimeLanguageModel(folder, session, tok);
    }

    public override int VocabSize => _vocab;
    public override int MaxContext => _context;
    public override int? BosId => _tokenizer.Data.AddBos ? _tokenizer.BosId : null; // see ILanguageModel.BosId
    public override int[] Encode(string text, bool addBos) => _tokenizer.Encode(text, addBos && BosId is not null);

    public override long ByteLength(ReadOnlySpan<int> tokens)
    {
        long bytes = 0;
        foreach (int t in tokens) bytes += _tokenizer.IsSpecial(t) ? 0 : _tokenizer.TokenBytes(t).Length;
        return bytes;
    }

    /// <summary>The folder's tokenizer (for generation and decoding).</summary>
    public LlamaTokenizer Tokenizer => _tokenizer;

    /// <summary>Full prefill: logits (T × V, row-major), row t predicting token t + 1 (for <c>compress logits</c>).</summary>
    public float[] AllLogits(ReadOnlySpan<int> tokens) => Logits(tokens);

    /// <summary>Full prefill: logits (T × V), row t predicting token t + 1.</summary>
    protected override float[] Logits(ReadOnlySpan<int> tokens)
    {
        int t = tokens.Length;
        var ids = new long[t];
        for (int i = 0; i < t; i++) ids[i] = tokens[i];
        var inputs = new List<NamedOnnxValue>(2 + 2 * _layers)
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [1, t])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, t).ToArray(), [1, t])),
        };
        for (int i = 0; i < _layers; i++)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor($"past_key_values.{i}.key", new DenseTensor<float>(Array.Empty<float>(), [1, _kvHeads, 0, _headSize])));
            inputs.Add(NamedOnnxValue.CreateFromTensor($"past_key_values.{i}.value", new DenseTensor<float>(Array.Empty<float>(), [1, _kvHeads, 0, _headSize])));
        }
        using var results = _session.Run(inputs, ["logits"]);
        var logits = (DenseTensor<float>)results.First().AsTensor<float>();
        if (logits.Length != (long)t * _vocab)
            throw new InvalidDataException($"onnxruntime: {Directory}: logits have {logits.Length} values, expected {t} × {_vocab}");
        return logits.Buffer.ToArray();
    }

    public void Dispose() => _session.Dispose();
}
