// ModelFamilies: the registry of supported families and how a config or a GGUF file names one.
namespace Compression.Model.Families;

/// <summary>Every supported architecture, one row each.</summary>
public static class ModelFamilies
{
    public static readonly ModelFamily Llama = new()
    {
        Name = "llama", HfArchitectures = ["LlamaForCausalLM"], GgufArchitecture = "llama",
        Llama3RopeScaling = true, Tokenizer = TokenizerKind.ByteLevelBpe,
        Description = "Llama 2 / 3.x: GQA attention, SwiGLU MLP, RMSNorm, RoPE (llama3 scaling optional)",
    };

    public static readonly ModelFamily Qwen3 = new()
    {
        Name = "qwen3", HfArchitectures = ["Qwen3ForCausalLM"], GgufArchitecture = "qwen3",
        GgufPermutesQueryKey = false, QueryKeyNorm = true, RequiredFields = ["head_dim"], Tokenizer = TokenizerKind.ByteLevelBpe,
        Description = "Qwen3 dense (Bonsai's architecture): Llama blocks plus per-head RMSNorm of queries and keys, head_dim set explicitly",
    };

    public static readonly ModelFamily Mistral = new()
    {
        Name = "mistral", HfArchitectures = ["MistralForCausalLM"], GgufArchitecture = "llama",
        SlidingWindow = true, Tokenizer = TokenizerKind.SentencePieceBpe,
        Description = "Mistral 7B: Llama blocks with sliding-window attention (v0.1: 4096; v0.2/v0.3: none)",
    };

    public static readonly ModelFamily Mixtral = new()
    {
        Name = "mixtral", HfArchitectures = ["MixtralForCausalLM"], GgufArchitecture = "llama",
        SparseExperts = true, SlidingWindow = true, RequiredFields = ["num_local_experts", "num_experts_per_tok"],
        Tokenizer = TokenizerKind.SentencePieceBpe,
        Description = "Mixtral 8x7B: Mistral attention with a top-k routed mixture of SwiGLU experts in each block",
    };

    public static IReadOnlyList<ModelFamily> All { get; } = [Llama, Qwen3, Mistral, Mixtral];

    /// <summary>The HF architecture names every family accepts, for error messages.</summary>
    public static string SupportedArchitectures => string.Join(", ", All.SelectMany(f => f.HfArchitectures));

    /// <summary>The GGUF architecture names that can be read.</summary>
    public static string SupportedGgufArchitectures => string.Join(", ", All.Select(f => f.GgufArchitecture).Distinct());

    /// <summary>A family by its short name (<c>model_type</c>), or null.</summary>
    public static ModelFamily? ByName(string? name) => All.FirstOrDefault(f => f.Name == name);

    /// <summary>A family by an HF <c>architectures</c> entry, or null.</summary>
    public static ModelFamily? ByHfArchitecture(string name) => All.FirstOrDefault(f => f.HfArchitectures.Contains(name));

    /// <summary>True when some family writes GGUF files with this <c>general.architecture</c>.</summary>
    public static bool IsGgufArchitecture(string name) => All.Any(f => f.GgufArchitecture == name);
}
