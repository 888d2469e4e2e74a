// ImportanceMatrix: llama-imatrix's statistics made with the workbench's forward — per linear weight (by GGUF name), the
// mean of x² over calibration tokens for each input column; what llama.cpp's quantizer weighs rounding errors with.
using Compression.Checkpoints.Gguf;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Quantization.Calibration;

/// <summary>
/// One float vector per linear weight, keyed by llama.cpp's tensor name ("blk.0.attn_q.weight"), of length = the weight's
/// input features: value j = Σ x_j² / n over the n calibration tokens that reached the layer. That is what llama-quantize
/// hands <c>llama_model_quantize</c> after loading a llama-imatrix file (sums divided by the token count per entry).
/// Like llama-imatrix without <c>--process-output</c>, the LM head (output.weight) has no entry; the token embedding is
/// a lookup, not a product, so it has none either.
/// </summary>
public sealed class ImportanceMatrix
{
    public ImportanceMatrix(IReadOnlyDictionary<string, float[]> entries, string dataset, int chunks, long tokens)
    {
        if (entries.Count == 0) throw new ArgumentException("an importance matrix needs at least one entry");
        foreach (var (name, v) in entries)
            foreach (float f in v)
                if (!float.IsFinite(f)) throw new InvalidDataException($"importance matrix entry {name} holds a non-finite value ({f})");
        (Entries, Dataset, Chunks, Tokens) = (entries, dataset, chunks, tokens);
    }

    /// <summary>Per-column mean squares by GGUF tensor name.</summary>
    public IReadOnlyDictionary<string, float[]> Entries { get; }

    /// <summary>What the statistics were computed on (the calibration spec's label).</summary>
    public string Dataset { get; }

    /// <summary>Calibration sequences run (llama-imatrix's "chunks").</summary>
    public int Chunks { get; }

    /// <summary>Tokens each entry averaged over.</summary>
    public long Tokens { get; }

    /// <summary>
    /// Runs the model's blocks on <paramref name="sequences"/> (batched up to 4,096 tokens a forward; no LM head) with an
    /// input observer on every block linear, accumulating Σx² per column in float64. The model is only read; its observers
    /// are cleared afterwards.
    /// </summary>
    public static ImportanceMatrix Collect(LlamaModel model, IReadOnlyList<int[]> sequences, string dataset, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (sequences.Count == 0) throw new ArgumentException("importance matrix: the calibration set is empty");
        if (model.Config.Family.SparseExperts)
            throw new NotSupportedException($"importance matrix: the {model.Config.Family.Name} architecture's experts are not observed per expert");
        int length = sequences[0].Length;
        if (sequences.Any(s => s.Length != length)) throw new ArgumentException("importance matrix: calibration sequences differ in length");

        var layers = model.LinearLayers().Where(l => l.Name != "lm_head.weight")
            .Select(l => (Gguf: GgufTensorNames.ToGguf(l.Name) ?? throw new NotSupportedException($"importance matrix: {l.Name} has no llama.cpp name"), l.Layer))
            .ToList();
        var sums = layers.ToDictionary(l => l.Gguf, l => new double[l.Layer.InFeatures]);
        var rows = layers.ToDictionary(l => l.Gguf, _ => 0L);
        try
        {
            foreach (var (gguf, layer) in layers)
            {
                var sum = sums[gguf];
                string key = gguf;
                layer.InputObserver = x =>
                {
                    using var scope = NewDisposeScope();
                    var x2 = x.detach().reshape(-1, sum.Length).to(ScalarType.Float64, CPU); // (tokens, In)
                    var colSums = x2.Squared().sum([0]).contiguous().data<double>().ToArray(); // (In)
                    for (int j = 0; j < sum.Length; j++) sum[j] += colSums[j];
                    rows[key] += x2.shape[0];
                };
            }
            using (no_grad())
            {
                int perBatch = Math.Max(1, CalibratedQuantizer.BatchTokens / length);
                for (int s0 = 0; s0 < sequences.Count; s0 += perBatch)
                {
                    ct.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var batch = sequences.Skip(s0).Take(perBatch).ToList();
                    var ids = tensor(batch.SelectMany(q => q.Select(t => (long)t)).ToArray(), [batch.Count, length]).to(model.Device);
                    model.Hidden(ids, null); // the LM head has no entry: skip its (tokens × vocab) logits
                }
            }
        }
        finally
        {
            foreach (var (_, layer) in layers) layer.InputObserver = null;
        }
        var entries = sums.ToDictionary(p => p.Key, p =>
        {
            long n = rows[p.Key];
            return p.Value.Select(s => (float)(s / Math.Max(1, n))).ToArray();
        });
        return new ImportanceMatrix(entries, dataset, sequences.Count, (long)sequences.Count * length);
    }

    /// <summary>A copy without <paramref name="name"/> (tests of the missing-entry check).</summary>
    public ImportanceMatrix Without(string name) =>
        new(Entries.Where(p => p.Key != name).ToDictionary(p => p.Key, p => p.Value), Dataset, Chunks, Tokens);
}
