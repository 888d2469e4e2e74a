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
        var known = expected.Select(s => s.Name).ToHashSet();
        // A tied checkpoint may still carry lm_head.weight; anything else unexpected is a mismatch.
        var extra = tensors.Keys.Where(k => !known.Contains(k) && !(config.TieWordEmbeddings && k == "lm_head.weight")
                                             && !k.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)).ToList();
        if (extra.Count > 0)
            throw new InvalidDataException(
                $"{path}: unexpected tensor(s) for this config: {string.Join(", ", extra.Take(5))}{(extra.Count > 5 ? ", ..." : "")}");
    }
}
