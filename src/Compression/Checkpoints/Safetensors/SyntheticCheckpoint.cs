// SyntheticCheckpoint: writes a random-weight Hugging Face checkpoint of any Llama config, streaming.
using System.Globalization;
using System.Text.RegularExpressions;
using Compression.Model;
using Compression.Quantization;

namespace Compression.Checkpoints.Safetensors;

/// <summary>
/// Random-weight checkpoints for configs whose real weights are not at hand (e.g. Llama 3.1 8B),
/// to measure sizes, loading and throughput. Linear and embedding weights are normal(0, 0.02)
/// (HF's default initializer_range), norms are 1.0 (Qwen3's per-head q/k norms 1 + normal(0, 0.25), so a test sees
/// whether they are applied weight by weight). Values depend only on the seed and the tensor
/// name and row, so the same seed gives the same tensors whatever the shard size.
/// </summary>
public static partial class SyntheticCheckpoint
{
    /// <summary>Standard deviation of the random weights (Hugging Face's default initializer_range).</summary>
    public const float InitStd = 0.02f;

    /// <summary>Float values generated per chunk; bounds memory use whatever the model size.</summary>
    private const int ChunkElements = 1 << 20;

    /// <summary>
    /// Writes config.json (with torch_dtype set to <paramref name="dtype"/>) and the weights, sharded
    /// as Hugging Face would with max_shard_size = <paramref name="maxShardBytes"/>, into
    /// <paramref name="outDir"/>. Weights are generated and written a chunk of rows at a time, so
    /// memory stays at a few MB even for a 16 GB checkpoint. With <paramref name="tokenizer"/>, tokenizer.json and
    /// tokenizer_config.json are written too and config.json takes its BOS/EOS ids; without, the directory opens with
    /// <see cref="SafetensorsCheckpoint.Open"/> but has no tokenizer.json.
    /// </summary>
    /// <param name="config">Architecture; tensor names and shapes come from <see cref="LlamaTensorLayout.Expected"/>.</param>
    /// <param name="outDir">Output directory (created if needed; an earlier checkpoint's weights files there are replaced).</param>
    /// <param name="dtype">Storage format: f32, f16 or bf16.</param>
    /// <param name="maxShardBytes">Most tensor-data bytes per shard; one shard is written as model.safetensors with no index.</param>
    /// <param name="seed">Random seed; the same seed gives the same values for the same tensor names and shapes.</param>
    /// <param name="progress">Reports (tensors done, tensor count, name of the tensor just written).</param>
    /// <param name="tokenizer">A tokenizer of exactly vocab_size tokens to write beside the weights, or null for none.</param>
    /// <param name="std">Standard deviation of the linear and embedding weights (larger ones give reference tests logits that differ more).</param>
    public static void Write(LlamaConfig config, string outDir, TensorFormat dtype, long maxShardBytes, int seed = 0,
                             IProgress<(int done, int total, string name)>? progress = null, Tokenization.TokenizerData? tokenizer = null,
                             float std = InitStd)
    {
        if (tokenizer is not null)
        {
            if (tokenizer.Tokens.Count != config.VocabSize)
                throw new ArgumentException($"the tokenizer has {tokenizer.Tokens.Count} tokens but vocab_size is {config.VocabSize}");
            config = config with
            {
                BosTokenIds = tokenizer.BosId is int b ? [b] : config.BosTokenIds,
                EosTokenIds = tokenizer.EosId is int e ? [e] : config.EosTokenIds,
            };
        }
        config.Validate("synthetic config"); // after taking the tokenizer's BOS/EOS ids, which must fit the vocabulary
        string torchDtype = SafetensorsDtype.TorchDtype(dtype); // throws for formats safetensors cannot hold
        var specs = LlamaTensorLayout.Expected(config);
        var declared = specs.Select(s => new TensorDeclaration(s.Name, dtype, s.Shape)).ToList();

        using (var writer = new ShardedSafetensorsWriter(outDir, declared, maxShardBytes))
        {
            for (int i = 0; i < specs.Count; i++)
            {
                WriteTensor(writer, specs[i], seed, std);
                progress?.Report((i + 1, specs.Count, specs[i].Name));
            }
            writer.Complete();
        }

        if (tokenizer is not null) Tokenization.TokenizerJson.Save(tokenizer, Path.Combine(outDir, "tokenizer.json"));
        else foreach (var stale in new[] { "tokenizer.json", Tokenization.TokenizerJson.ConfigFileName }) File.Delete(Path.Combine(outDir, stale)); // an earlier run's
        // config.json last: it is what marks the directory as a checkpoint.
        string configPath = Path.Combine(outDir, "config.json");
        var written = config with { TorchDtype = torchDtype, ModelType = config.ModelType ?? config.Family.Name, Architectures = config.Architectures ?? [config.Family.HfArchitectures[0]] };
        Compression.IO.AtomicFile.WriteAllText(configPath, written.ToJson());
    }

    private static void WriteTensor(ShardedSafetensorsWriter writer, TensorSpec spec, int seed, float std)
    {
        int cols = checked((int)spec.Shape[^1]);
        long rows = spec.Elements / cols;
        int chunkRows = (int)Math.Clamp(ChunkElements / cols, 1, rows);
        var buffer = new float[(long)chunkRows * cols];
        if (spec.Role is TensorRole.QueryNorm or TensorRole.KeyNorm)
        {
            SeededNormal.FillRow(SeededNormal.TensorKey(seed, spec.Name), 0, 0.25f, buffer.AsSpan(0, cols), new float[(cols + 1) / 2 * 2]);
            for (int j = 0; j < cols; j++) buffer[j] += 1f;
            writer.WriteFloats(buffer.AsSpan(0, cols));
            return;
        }
        if (spec.IsNorm)
        {
            Array.Fill(buffer, 1f);
            for (long r = 0; r < rows; r += chunkRows)
                writer.WriteFloats(buffer.AsSpan(0, (int)Math.Min(chunkRows, rows - r) * cols));
            return;
        }
        ulong key = SeededNormal.TensorKey(seed, spec.Name);
        for (long first = 0; first < rows; first += chunkRows)
        {
            int count = (int)Math.Min(chunkRows, rows - first);
            // Rows are independent streams, so generating them in parallel changes nothing.
            Parallel.For(0, count,
                () => new float[(cols + 1) / 2 * 2],
                (i, _, scratch) =>
                {
                    SeededNormal.FillRow(key, first + i, std, buffer.AsSpan(i * cols, cols), scratch);
                    return scratch;
                },
                _ => { });
            writer.WriteFloats(buffer.AsSpan(0, count * cols));
        }
    }

    /// <summary>
    /// Parses a size such as "5GB", "500MB", "2GiB", "1.5 GB" or "123" (bytes). Decimal units
    /// (KB, MB, GB, TB) are powers of 1000, as in Hugging Face's max_shard_size; binary units
    /// (KiB, MiB, GiB, TiB) powers of 1024. Units are case-insensitive.
    /// </summary>
    /// <exception cref="FormatException">The text is not a positive size.</exception>
    public static long ParseSize(string text)
    {
        var m = SizePattern().Match(text ?? "");
        decimal multiplier = !m.Success ? 0 : m.Groups[2].Value.ToUpperInvariant() switch
        {
            "" or "B" => 1m,
            "KB" => 1e3m, "MB" => 1e6m, "GB" => 1e9m, "TB" => 1e12m,
            "KIB" => 1024m, "MIB" => 1024m * 1024, "GIB" => 1024m * 1024 * 1024, "TIB" => 1024m * 1024 * 1024 * 1024,
            _ => 0,
        };
        decimal bytes = 0;
        if (multiplier != 0
            && decimal.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            try { bytes = decimal.Floor(value * multiplier); }
            catch (OverflowException) { bytes = decimal.MaxValue; }
        }
        if (bytes < 1 || bytes > long.MaxValue)
            throw new FormatException($"'{text}' is not a size; expected a positive number of bytes or a number with a unit, e.g. 5GB, 500MB, 2GiB or 123");
        return (long)bytes;
    }

    [GeneratedRegex(@"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")]
    private static partial Regex SizePattern();
}
