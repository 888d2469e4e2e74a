// LlamaConfig: the architecture hyper-parameters, read from a checkpoint's own config.json.
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Compression.Model.Families;

namespace Compression.Model;

/// <summary>Llama 3 "rope_scaling" block (rope_type "llama3"); other rope types are rejected on load.</summary>
public sealed record RopeScaling
{
    [JsonPropertyName("rope_type")] public string? RopeType { get; init; }
    /// <summary>Older configs spell rope_type as "type".</summary>
    [JsonPropertyName("type")] public string? LegacyType { get; init; }
    [JsonPropertyName("factor")] public double Factor { get; init; } = 1.0;
    [JsonPropertyName("low_freq_factor")] public double LowFreqFactor { get; init; } = 1.0;
    [JsonPropertyName("high_freq_factor")] public double HighFreqFactor { get; init; } = 4.0;
    [JsonPropertyName("original_max_position_embeddings")] public int OriginalMaxPositionEmbeddings { get; init; } = 8192;

    /// <summary>The effective rope type ("llama3", "default", ...).</summary>
    [JsonIgnore] public string Kind => RopeType ?? LegacyType ?? "default";
}

/// <summary>Hyper-parameters of a Llama-family model (Llama, Qwen3, Mistral, Mixtral), as in Hugging Face's config.json.</summary>
public sealed record LlamaConfig
{
    // The family fields are left out when null under any serializer options, so records written before they existed
    // (training manifests, result records) still compare equal.
    /// <summary>HF class names ("LlamaForCausalLM", "Qwen3ForCausalLM", ...); the first selects the <see cref="Family"/>.</summary>
    [JsonPropertyName("architectures"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string[]? Architectures { get; init; }
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; }
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; }
    [JsonPropertyName("num_hidden_layers")] public int NumLayers { get; init; }
    [JsonPropertyName("num_attention_heads")] public int NumHeads { get; init; }
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeadsRaw { get; init; }
    [JsonPropertyName("head_dim")] public int? HeadDimRaw { get; init; }
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; }
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-5;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("rope_scaling")] public RopeScaling? RopeScaling { get; init; }
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("bos_token_id"), JsonConverter(typeof(TokenIdListConverter))] public int[] BosTokenIds { get; init; } = [];
    [JsonPropertyName("eos_token_id"), JsonConverter(typeof(TokenIdListConverter))] public int[] EosTokenIds { get; init; } = [];
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; }
    [JsonPropertyName("mlp_bias")] public bool MlpBias { get; init; }
    [JsonPropertyName("model_type")] public string? ModelType { get; init; }
    /// <summary>Attention window in tokens (Mistral v0.1: 4096); null or absent for full attention.</summary>
    [JsonPropertyName("sliding_window"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? SlidingWindow { get; init; }
    /// <summary>Experts per block of a sparse mixture (Mixtral: 8).</summary>
    [JsonPropertyName("num_local_experts"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? NumLocalExperts { get; init; }
    /// <summary>Experts each token is routed to (Mixtral: 2).</summary>
    [JsonPropertyName("num_experts_per_tok"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? NumExpertsPerToken { get; init; }

    // Derived sizes: computed here and nowhere else.
    [JsonIgnore] public int NumKeyValueHeads => NumKeyValueHeadsRaw ?? NumHeads;
    [JsonIgnore] public int HeadDim => HeadDimRaw ?? HiddenSize / NumHeads;
    [JsonIgnore] public int QueryDim => NumHeads * HeadDim;
    [JsonIgnore] public int KeyValueDim => NumKeyValueHeads * HeadDim;
    [JsonIgnore] public int? BosTokenId => BosTokenIds.Length > 0 ? BosTokenIds[0] : null;

    /// <summary>
    /// The architecture: the first <c>architectures</c> entry, else <c>model_type</c>, else Llama. An unknown name is an
    /// error (see <see cref="Validate"/>); here it falls back to Llama so derived sizes stay computable.
    /// </summary>
    [JsonIgnore] public ModelFamily Family =>
        (Architectures is { Length: > 0 } a ? ModelFamilies.ByHfArchitecture(a[0]) : ModelFamilies.ByName(ModelType)) ?? ModelFamilies.Llama;
    /// <summary>The window attention is limited to, when the family honours <c>sliding_window</c>; else null.</summary>
    [JsonIgnore] public int? AttentionWindow => Family.SlidingWindow ? SlidingWindow : null;
    /// <summary>Experts per block (0 for a dense model).</summary>
    [JsonIgnore] public int Experts => Family.SparseExperts ? NumLocalExperts ?? 0 : 0;
    /// <summary>Experts used per token (0 for a dense model).</summary>
    [JsonIgnore] public int ExpertsPerToken => Family.SparseExperts ? NumExpertsPerToken ?? 0 : 0;

    /// <summary>Largest config.json read (real ones are about 1 KB).</summary>
    public const long MaxFileBytes = 16 << 20;

    // Plausibility bounds, far above any real Llama (405B: 126 layers, hidden 16384, 128 heads, vocab 128,256,
    // context 131,072), checked before anything is sized or allocated from the config: a corrupt count must
    // fail here, not after gigabytes of per-layer bookkeeping.
    public const int MaxLayers = 1024;
    public const int MaxHiddenSize = 1 << 17;
    public const int MaxIntermediateSize = 1 << 20;
    public const int MaxHeads = 1024;
    public const int MaxHeadDim = 1024;
    public const int MaxVocabSize = 1 << 22;
    public const int MaxContext = 1 << 24;
    public const int MaxExperts = 1024;

    private static readonly JsonSerializerOptions Options = new()
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Parses config.json text; <paramref name="source"/> names the file in error messages.</summary>
    public static LlamaConfig Parse(string json, string source = "config.json")
    {
        LlamaConfig? config;
        try { config = JsonSerializer.Deserialize<LlamaConfig>(json, Options); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a valid config.json ({e.Message.ReplaceLineEndings(" ")})", e); }
        if (config is null) throw new InvalidDataException($"{source}: empty config");
        config.Validate(source);
        return config;
    }

    /// <summary>Reads a config.json file (or the config.json inside a checkpoint directory).</summary>
    public static LlamaConfig Load(string path)
    {
        if (Directory.Exists(path)) path = System.IO.Path.Combine(path, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config file not found", path);
        return Parse(Compression.IO.InputFile.ReadAllText(path, MaxFileBytes, "a config.json"), path);
    }

    /// <summary>Serialises back to HF config.json layout.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Checks required fields and consistency; throws naming the file and the field.</summary>
    public void Validate(string source = "config.json")
    {
        void Require(bool ok, string what) { if (!ok) throw new InvalidDataException($"{source}: {what}"); }
        if (Architectures is { Length: > 0 } archs)
            Require(ModelFamilies.ByHfArchitecture(archs[0]) is not null,
                $"architecture '{archs[0]}' is not supported; supported: {ModelFamilies.SupportedArchitectures}");
        else if (ModelType is not null)
            Require(ModelFamilies.ByName(ModelType) is not null,
                $"model_type '{ModelType}' is not supported; supported: {string.Join(", ", ModelFamilies.All.Select(f => f.Name))}");
        var family = Family;
        foreach (var field in family.RequiredFields)
            Require(HasField(field), $"missing required field '{field}' (needed by the {family.Name} architecture)");
        Require(HiddenSize > 0, "missing or invalid required field 'hidden_size'");
        Require(IntermediateSize > 0, "missing or invalid required field 'intermediate_size'");
        Require(NumLayers > 0, "missing or invalid required field 'num_hidden_layers'");
        Require(NumHeads > 0, "missing or invalid required field 'num_attention_heads'");
        Require(VocabSize > 0, "missing or invalid required field 'vocab_size'");
        void Bound(long value, long limit, string field) =>
            Require(value <= limit, $"{field} = {value:N0} exceeds the plausibility limit of {limit:N0} (corrupt config?)");
        Bound(NumLayers, MaxLayers, "num_hidden_layers");
        Bound(HiddenSize, MaxHiddenSize, "hidden_size");
        Bound(IntermediateSize, MaxIntermediateSize, "intermediate_size");
        Bound(NumHeads, MaxHeads, "num_attention_heads");
        Bound(VocabSize, MaxVocabSize, "vocab_size");
        Require(MaxPositionEmbeddings > 0, $"max_position_embeddings ({MaxPositionEmbeddings}) must be positive");
        Bound(MaxPositionEmbeddings, MaxContext, "max_position_embeddings");
        if (HeadDimRaw is int hd)
        {
            Require(hd > 0, $"head_dim ({hd}) must be positive");
            Bound(hd, MaxHeadDim, "head_dim");
        }
        Require(NumKeyValueHeads > 0 && NumHeads % NumKeyValueHeads == 0,
            $"num_attention_heads ({NumHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})");
        Require(HeadDimRaw is not null || HiddenSize % NumHeads == 0,
            $"hidden_size ({HiddenSize}) is not divisible by num_attention_heads ({NumHeads}) and no head_dim is given");
        Require(HeadDim % 2 == 0, $"head_dim ({HeadDim}) must be even for rotary embeddings");
        Require(HeadDim > 0 && HeadDim <= MaxHeadDim, $"head_dim ({HeadDim}) must be in [1, {MaxHeadDim}]");
        Require(double.IsFinite(RmsNormEps) && RmsNormEps > 0 && RmsNormEps < 1, $"rms_norm_eps ({RmsNormEps}) must be a finite number in (0, 1)");
        Require(double.IsFinite(RopeTheta) && RopeTheta > 0, $"rope_theta ({RopeTheta}) must be a finite positive number");
        foreach (int id in BosTokenIds.Concat(EosTokenIds))
            Require(id >= 0 && id < VocabSize, $"bos/eos token id {id} is outside the vocabulary of {VocabSize} tokens");
        Require(HiddenAct == "silu", $"hidden_act '{HiddenAct}' is not supported (Llama uses silu)");
        Require(!AttentionBias && !MlpBias, "attention_bias / mlp_bias are not supported by the Llama architecture here");
        if (SlidingWindow is int window) Require(window > 0, $"sliding_window ({window}) must be positive");
        if (family.SparseExperts)
        {
            Require(NumLocalExperts is > 0 and <= MaxExperts, $"num_local_experts ({NumLocalExperts}) must be in [1, {MaxExperts}]");
            Require(NumExpertsPerToken > 0 && NumExpertsPerToken <= NumLocalExperts,
                $"num_experts_per_tok ({NumExpertsPerToken}) must be in [1, num_local_experts = {NumLocalExperts}]");
        }
        if (RopeScaling is { Kind: not "default" } && !family.Llama3RopeScaling)
            Require(false, $"rope_scaling type '{RopeScaling.Kind}' is not supported by the {family.Name} architecture (it uses no rope scaling)");
        if (RopeScaling is { } rs)
        {
            Require(rs.Kind is "llama3" or "default", $"rope_scaling type '{rs.Kind}' is not supported (only 'llama3')");
            if (rs.Kind == "llama3")
                Require(double.IsFinite(rs.Factor) && double.IsFinite(rs.LowFreqFactor) && double.IsFinite(rs.HighFreqFactor) && rs.LowFreqFactor > 0
                        && rs.Factor > 0 && rs.HighFreqFactor > rs.LowFreqFactor && rs.OriginalMaxPositionEmbeddings > 0,
                    "rope_scaling needs finite factor > 0, high_freq_factor > low_freq_factor > 0, original_max_position_embeddings > 0");
        }
    }

    /// <summary>Whether an optional config.json field a family may require is set.</summary>
    private bool HasField(string field) => field switch
    {
        "head_dim" => HeadDimRaw is not null,
        "num_local_experts" => NumLocalExperts is not null,
        "num_experts_per_tok" => NumExpertsPerToken is not null,
        "sliding_window" => SlidingWindow is not null,
        _ => throw new InvalidOperationException($"family field '{field}' has no LlamaConfig property"),
    };

    // Named presets, read from the JSON shipped in experiments/configs (embedded in the library).
    public static LlamaConfig Llama31_8B => Preset("llama-3.1-8b");
    public static LlamaConfig Llama31_70B => Preset("llama-3.1-70b");
    public static LlamaConfig Llama32_1B => Preset("llama-3.2-1b");
    public static LlamaConfig Llama32_3B => Preset("llama-3.2-3b");

    /// <summary>Names of the shipped presets.</summary>
    public static IReadOnlyList<string> PresetNames =>
        typeof(LlamaConfig).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("configs/", StringComparison.Ordinal))
            .Select(n => n["configs/".Length..^".json".Length]).Order().ToArray();

    /// <summary>A shipped preset by name (e.g. "llama-3.1-8b").</summary>
    public static LlamaConfig Preset(string name)
    {
        using var stream = typeof(LlamaConfig).Assembly.GetManifestResourceStream($"configs/{name}.json")
            ?? throw new ArgumentException($"no preset '{name}'; known: {string.Join(", ", PresetNames)}");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), $"experiments/configs/{name}.json");
    }
}

/// <summary>bos/eos token ids appear as a number, a list of numbers, or null.</summary>
internal sealed class TokenIdListConverter : JsonConverter<int[]>
{
    /// <summary>Read JSON null through <see cref="Read"/> (as no ids), never as a null array.</summary>
    public override bool HandleNull => true;

    public override int[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return [];
            case JsonTokenType.Number: return [reader.TryGetInt32(out int single) ? single : throw new JsonException("token ids must be 32-bit integers")];
            case JsonTokenType.StartArray:
                var ids = new List<int>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.Number) throw new JsonException("token id lists must hold numbers");
                    ids.Add(reader.TryGetInt32(out int id) ? id : throw new JsonException("token ids must be 32-bit integers"));
                    if (ids.Count > 1024) throw new JsonException("more than 1024 bos/eos token ids");
                }
                return ids.ToArray();
            default: throw new JsonException("expected a token id or a list of token ids");
        }
    }

    public override void Write(Utf8JsonWriter writer, int[] value, JsonSerializerOptions options)
    {
        value ??= [];
        if (value.Length == 1) { writer.WriteNumberValue(value[0]); return; }
        writer.WriteStartArray();
        foreach (var id in value) writer.WriteNumberValue(id);
        writer.WriteEndArray();
    }
}
