// LlamaCppVocabulary: only the vocabulary of a GGUF loaded in llama.cpp (vocab_only) — its tokenizer, as a reference.
using System.Text;
using LLama;
using LLama.Common;

namespace Compression.Engines.LlamaCpp;

/// <summary>
/// llama.cpp's tokenizer for a GGUF file: the model is opened with <c>vocab_only</c>, so no tensor is read and a
/// file with metadata alone (architecture keys and <c>tokenizer.ggml.*</c>) is enough. Dispose to free it.
/// </summary>
public sealed class LlamaCppVocabulary : IDisposable
{
    private readonly LLamaWeights _weights;

    private LlamaCppVocabulary(LLamaWeights weights) => _weights = weights;

    /// <summary>Loads the vocabulary of <paramref name="path"/>; a file llama.cpp rejects is an <see cref="InvalidDataException"/> with its reason.</summary>
    public static LlamaCppVocabulary Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{LlamaCppRuntime.EngineName}: {path} does not exist", path);
        LlamaCppRuntime.EnsureLoaded();
        LlamaCppRuntime.ClearLog();
        var p = new ModelParams(Path.GetFullPath(path)) { VocabOnly = true, GpuLayerCount = 0 };
        try { return new LlamaCppVocabulary(LLamaWeights.LoadFromFile(p)); }
        catch (LLama.Exceptions.LoadWeightsFailedException)
        {
            string log = LlamaCppRuntime.RecentErrors();
            throw new InvalidDataException($"{LlamaCppRuntime.EngineName} cannot load the vocabulary of {path}: {(log.Length > 0 ? log : "no reason logged")}");
        }
    }

    /// <summary>Number of tokens.</summary>
    public int Count => _weights.Vocab.Count;

    /// <summary>
    /// <c>llama_tokenize</c>: <paramref name="addSpecial"/> adds BOS (and EOS) as the vocabulary's settings say;
    /// <paramref name="parseSpecial"/> matches control-token text.
    /// </summary>
    public int[] Tokenize(string text, bool addSpecial, bool parseSpecial) =>
        [.. _weights.Tokenize(text, addSpecial, parseSpecial, Encoding.UTF8).Select(t => (int)t)];

    public void Dispose() => _weights.Dispose();
}
