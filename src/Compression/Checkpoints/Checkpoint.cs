// Checkpoint: a model on disk — its config, its tensors under HF names, memory-mapped.
using Compression.Model;

namespace Compression.Checkpoints;

/// <summary>
/// An opened checkpoint (HF safetensors directory or GGUF file). Tensors are memory-mapped views
/// keyed by Hugging Face names and already checked against the config's names and shapes.
/// </summary>
public abstract class Checkpoint : IDisposable
{
    /// <summary>The path the checkpoint was opened from.</summary>
    public abstract string Path { get; }
    public abstract LlamaConfig Config { get; }
    /// <summary>Tensors by Hugging Face name.</summary>
    public abstract IReadOnlyDictionary<string, StoredTensor> Tensors { get; }
    /// <summary>"safetensors" or "gguf".</summary>
    public abstract string Kind { get; }
    /// <summary>Per-pair divisors of the rotary inverse frequencies stored with the weights (GGUF <c>rope_freqs.weight</c>), or null.</summary>
    public virtual IReadOnlyList<float>? RopeFrequencyFactors => null;
    /// <summary>The vocabulary stored with the checkpoint (tokenizer.json or GGUF <c>tokenizer.ggml.*</c>), or null when there is none.</summary>
    public abstract Tokenization.TokenizerData? LoadTokenizerData();
    /// <summary>
    /// The checkpoint's tokenizer, or null when it has none; a vocabulary the tokenizer cannot be built from is an
    /// <see cref="InvalidDataException"/> naming the checkpoint.
    /// </summary>
    public Tokenization.LlamaTokenizer? CreateTokenizer()
    {
        if (LoadTokenizerData() is not { } data) return null;
        try { return new Tokenization.LlamaTokenizer(data); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{Path}: the tokenizer cannot be built from its vocabulary ({e.Message.ReplaceLineEndings(" ")})", e);
        }
    }

    /// <summary>Bytes of tensor data on disk.</summary>
    public long TensorBytes => Tensors.Values.Sum(t => t.ByteLength);

    public StoredTensor this[string name] => Tensors.TryGetValue(name, out var t) ? t
        : throw new InvalidDataException($"{Path}: tensor '{name}' is missing");

    public abstract void Dispose();

    /// <summary>
    /// Checks that the tensors are exactly those <see cref="LlamaTensorLayout.Expected"/> names for the
    /// config, with matching shapes; throws naming the checkpoint and the offending tensor.
    /// </summary>
    protected static void CheckAgainstConfig(string path, LlamaConfig config, IReadOnlyDictionary<string, StoredTensor> tensors)
    {
        var expected = LlamaTensorLayout.Expected(config);
        foreach (var spec in expected)
        {
            if (!tensors.TryGetValue(spec.Name, out var t))
                throw new InvalidDataException($"{path}: tensor '{spec.Name}' is missing (required by the config)");
            if (!t.Shape.SequenceEqual(spec.Shape))
                throw new InvalidDataException(
                    $"{path}: tensor '{spec.Name}' has shape [{string.Join(", ", t.Shape)}] but the config implies [{string.Join(", ", spec.Shape)}]");
        }
        if (config.TieWordEmbeddings && tensors.TryGetValue("lm_head.weight", out var head))
            CheckTiedHead(path, head, tensors["model.embed_tokens.weight"]);
        var known = expected.Select(s => s.Name).ToHashSet();
        // A tied checkpoint may still carry lm_head.weight; anything else unexpected is a mismatch.
        var extra = tensors.Keys.Where(k => !known.Contains(k) && !(config.TieWordEmbeddings && k == "lm_head.weight")
                                             && !k.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException(
                $"{path}: unexpected tensor(s) for this config: {string.Join(", ", extra.Take(5))}{(extra.Count > 5 ? ", ..." : "")}");
    }

    /// <summary>
    /// A tied config uses the embedding as the LM head, so a stored lm_head.weight is dropped. That is only right
    /// when it is a copy of the embedding (some exporters save both); a different head would be silently lost.
    /// </summary>
    private static void CheckTiedHead(string path, StoredTensor head, StoredTensor embed)
    {
        bool same = head.Format == embed.Format && head.Shape.SequenceEqual(embed.Shape);
        for (long r = 0; same && r < head.Rows; r++) same = head.Row(r).SequenceEqual(embed.Row(r));
        if (!same)
            throw new InvalidDataException(
                $"{path}: the config sets tie_word_embeddings, but the checkpoint has an lm_head.weight that differs from model.embed_tokens.weight " +
                "(set tie_word_embeddings to false to use the stored head)");
    }
}
