// SafetensorsCheckpoint: a Hugging Face checkpoint — config.json plus one or many .safetensors shards.
using System.Text.Json;
using Compression.Model;

namespace Compression.Checkpoints.Safetensors;

/// <summary>
/// A Hugging Face Llama checkpoint: <c>config.json</c> with either <c>model.safetensors</c> or
/// <c>model.safetensors.index.json</c> and the shards its <c>weight_map</c> names. Tensors are
/// memory-mapped and checked against the config's names and shapes on open.
/// </summary>
public sealed class SafetensorsCheckpoint : Checkpoint
{
    /// <summary>The single-file weights name, as Hugging Face writes it.</summary>
    public const string SingleFileName = "model.safetensors";
    /// <summary>The shard index name, as Hugging Face writes it.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Largest index file read (Llama 3.1 405B's is ~100 KB).</summary>
    public const long MaxIndexBytes = 64 << 20;

    private readonly List<SafetensorsFile> _shards;
    private readonly Dictionary<string, StoredTensor> _tensors;

    private SafetensorsCheckpoint(string path, LlamaConfig config, List<SafetensorsFile> shards,
                                  Dictionary<string, StoredTensor> tensors, string? tokenizerJson)
    {
        Path = path;
        Config = config;
        _shards = shards;
        _tensors = tensors;
        TokenizerJsonPath = tokenizerJson;
    }

    public override string Path { get; }
    public override LlamaConfig Config { get; }
    public override IReadOnlyDictionary<string, StoredTensor> Tensors => _tensors;
    public override string Kind => "safetensors";

    /// <summary>The opened .safetensors files (one, or every shard in index order).</summary>
    public IReadOnlyList<SafetensorsFile> Shards => _shards;

    /// <summary>tokenizer.json beside the weights when present (not parsed here), else null.</summary>
    public string? TokenizerJsonPath { get; }

    /// <summary>tokenizer.json (with tokenizer_config.json beside it) parsed, or null when the checkpoint has none.</summary>
    public override Tokenization.TokenizerData? LoadTokenizerData() =>
        TokenizerJsonPath is null ? null : Tokenization.TokenizerJson.Load(TokenizerJsonPath);

    /// <summary>
    /// Opens <paramref name="path"/>: a checkpoint directory, a .safetensors file, or a
    /// model.safetensors.index.json, with config.json in the same directory. In a directory
    /// model.safetensors wins over an index, as in Hugging Face's loader.
    /// </summary>
    public static SafetensorsCheckpoint Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        string dir, weights;
        if (Directory.Exists(full))
        {
            dir = full;
            weights = System.IO.Path.Combine(dir, SingleFileName);
            if (!File.Exists(weights)) weights = System.IO.Path.Combine(dir, IndexFileName);
            if (!File.Exists(weights))
                throw new InvalidDataException($"{dir}: no {SingleFileName} or {IndexFileName} in this directory");
        }
        else if (File.Exists(full))
        {
            weights = full;
            dir = System.IO.Path.GetDirectoryName(full)!;
        }
        else throw new FileNotFoundException($"{path}: no such checkpoint file or directory", path);

        string configPath = System.IO.Path.Combine(dir, "config.json");
        if (!File.Exists(configPath))
            throw new InvalidDataException($"{configPath}: config.json not found beside the weights (a safetensors checkpoint needs it)");
        var config = LlamaConfig.Parse(Compression.IO.InputFile.ReadAllText(configPath, LlamaConfig.MaxFileBytes, "a config.json"), configPath);

        var shards = new List<SafetensorsFile>();
        try
        {
            var tensors = weights.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? OpenIndexed(weights, dir, shards)
                : OpenSingle(weights, shards);
            CheckAgainstConfig(full, config, tensors);
            string tokenizer = System.IO.Path.Combine(dir, "tokenizer.json");
            return new SafetensorsCheckpoint(full, config, shards, tensors, File.Exists(tokenizer) ? tokenizer : null);
        }
        catch
        {
            foreach (var s in shards) s.Dispose();
            throw;
        }
    }

    private static Dictionary<string, StoredTensor> OpenSingle(string file, List<SafetensorsFile> shards)
    {
        var st = SafetensorsFile.Open(file);
        shards.Add(st);
        return new Dictionary<string, StoredTensor>(st.Tensors);
    }

    /// <summary>The index's weight_map is the authority: each named tensor must be in the shard it names.</summary>
    private static Dictionary<string, StoredTensor> OpenIndexed(string indexPath, string dir, List<SafetensorsFile> shards)
    {
        var weightMap = ReadWeightMap(indexPath);
        var byFile = new Dictionary<string, SafetensorsFile>();
        var tensors = new Dictionary<string, StoredTensor>();
        foreach (var (name, shardName) in weightMap)
        {
            if (!byFile.TryGetValue(shardName, out var shard))
            {
                string shardPath = System.IO.Path.Combine(dir, shardName);
                if (!File.Exists(shardPath))
                    throw new InvalidDataException($"{indexPath}: shard '{shardName}' (holding '{name}') is missing: {shardPath} does not exist");
                shard = SafetensorsFile.Open(shardPath);
                shards.Add(shard);
                byFile[shardName] = shard;
            }
            if (!shard.Tensors.TryGetValue(name, out var tensor))
                throw new InvalidDataException($"{indexPath}: weight_map puts tensor '{name}' in {shard.Path}, which does not contain it");
            tensors[name] = tensor;
        }
        return tensors;
    }

    private static List<(string Tensor, string Shard)> ReadWeightMap(string indexPath)
    {
        InvalidDataException Bad(string what) => new($"{indexPath}: {what}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(Compression.IO.InputFile.ReadAllBytes(indexPath, MaxIndexBytes, "a model.safetensors.index.json")); }
        catch (JsonException e) { throw Bad($"not valid JSON ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw Bad("no \"weight_map\" object");
            var result = new List<(string, string)>();
            var seen = new HashSet<string>();
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw Bad($"weight_map entry '{entry.Name}' is not a shard file name");
                string shard = entry.Value.GetString()!;
                // Shards live beside the index; a path would let an index point anywhere on disk.
                if (shard.Length == 0 || shard != System.IO.Path.GetFileName(shard) || shard is "." or "..")
                    throw Bad($"weight_map entry '{entry.Name}' names '{shard}', which is not a plain file name");
                if (!seen.Add(entry.Name)) throw Bad($"weight_map names tensor '{entry.Name}' twice");
                result.Add((entry.Name, shard));
            }
            if (result.Count == 0) throw Bad("weight_map is empty");
            return result;
        }
    }

    /// <summary>Unmaps every shard.</summary>
    public override void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }
}
