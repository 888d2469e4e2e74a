// GgufCheckpoint: a Llama-family GGUF file (llama, qwen3; Mistral and Mixtral are "llama") seen as a Checkpoint — config
// from the ARCH.* metadata, tensors under HF names in PyTorch order with Q/K rows un-permuted and merged expert tensors
// split per expert, tokenizer and RoPE factors exposed.
using System.Globalization;
using Compression.Model;
using Compression.Model.Families;
using Compression.Tokenization;

namespace Compression.Checkpoints.Gguf;

/// <summary>A GGUF checkpoint of a Llama-family architecture (as llama.cpp's converter and llama-quantize write it).</summary>
public sealed class GgufCheckpoint : Checkpoint
{
    private readonly Dictionary<string, StoredTensor> _tensors;

    public override string Path => File.Path;
    public override LlamaConfig Config { get; }
    public override IReadOnlyDictionary<string, StoredTensor> Tensors => _tensors;
    public override string Kind => "gguf";
    /// <summary>The underlying file (metadata, tensor table).</summary>
    public GgufFile File { get; }
    /// <summary>
    /// <c>rope_freqs.weight</c>: per-frequency divisors of the RoPE inverse frequencies (head_dim/2 values),
    /// which is how GGUF carries Llama 3 rope scaling. When present, <see cref="Config"/> has no RopeScaling;
    /// pass these to <see cref="RotaryEmbedding"/>.
    /// </summary>
    public override IReadOnlyList<float>? RopeFrequencyFactors { get; }
    /// <summary>The vocabulary from <c>tokenizer.ggml.*</c> (any kind in <see cref="TokenizerKinds"/>); null when the file has none.</summary>
    public TokenizerData? Tokenizer { get; }

    public override TokenizerData? LoadTokenizerData() => Tokenizer;
    /// <summary><c>general.name</c>, when present.</summary>
    public string? Name => File.TryGetString("general.name");

    private GgufCheckpoint(GgufFile file)
    {
        File = file;
        string arch = file.TryGetString("general.architecture")
            ?? throw new InvalidDataException($"{file.Path}: general.architecture is missing");
        if (!ModelFamilies.IsGgufArchitecture(arch))
            throw new InvalidDataException($"{file.Path}: architecture '{arch}' is not supported; supported: {ModelFamilies.SupportedGgufArchitectures}");

        Config = ReadConfig(file, arch);
        var rope = file.FindTensor(GgufTensorNames.RopeFrequencies);
        if (rope is not null)
        {
            if (rope.Dimensions.Length != 1 || rope.Elements != Config.HeadDim / 2)
                throw new InvalidDataException(
                    $"{file.Path}: {GgufTensorNames.RopeFrequencies} has dimensions [{string.Join(", ", rope.Dimensions)}], expected [{Config.HeadDim / 2}] (head_dim/2)");
            var factors = Stored(rope, GgufTensorNames.RopeFrequencies, null).ToFloat32();
            // They divide the inverse frequencies: zero, negative or non-finite factors give non-finite rotations.
            int bad = Array.FindIndex(factors, x => !float.IsFinite(x) || x <= 0);
            if (bad >= 0)
                throw new InvalidDataException(
                    $"{file.Path}: {GgufTensorNames.RopeFrequencies}[{bad}] = {factors[bad]}; rope frequency factors must be finite and positive");
            RopeFrequencyFactors = factors;
        }

        _tensors = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
        var specs = LlamaTensorLayout.Expected(Config).ToDictionary(s => s.Name);
        foreach (var info in file.Tensors)
        {
            if (info.Name == GgufTensorNames.RopeFrequencies) continue;
            if (GgufTensorNames.ExpertSlices(info.Name) is { } expertName && info.Dimensions.Length == 3)
            {
                // (Experts, rows, cols) expert-major: expert e's matrix is a contiguous slice.
                long[] shape = info.Shape[1..];
                long bytes = shape[0] * info.Format.RowBytes(shape[1]);
                for (int e = 0; e < info.Shape[0]; e++)
                    _tensors.Add(expertName(e), new StoredTensor
                    {
                        Name = expertName(e), FileTensorName = info.Name, Shape = shape, Format = info.Format,
                        Source = File.Mapped, Offset = info.Offset + e * bytes,
                    });
                continue;
            }
            // Unknown names are kept as they are, so CheckAgainstConfig reports them as unexpected.
            string hf = GgufTensorNames.ToHuggingFace(info.Name) ?? info.Name;
            int[]? rowOrder = null;
            if (specs.TryGetValue(hf, out var spec) && GgufTensorNames.PermutedHeads(spec, Config) is int heads
                && info.Dimensions.Length == 2 && info.Shape.SequenceEqual(spec.Shape))
                rowOrder = GgufTensorNames.StoredRowOfHfRow(checked((int)info.Dimensions[1]), heads);
            _tensors.Add(hf, Stored(info, hf, rowOrder));
        }
        CheckAgainstConfig(file.Path, Config, _tensors);
        Tokenizer = GgufTokenizer.Read(file);
    }

    /// <summary>Opens a GGUF file and checks its tensors against the config its metadata implies.</summary>
    public static GgufCheckpoint Open(string path)
    {
        var file = GgufFile.Open(path);
        try { return new GgufCheckpoint(file); }
        catch { file.Dispose(); throw; }
    }

    public override void Dispose() => File.Dispose();

    private StoredTensor Stored(GgufTensorInfo info, string hfName, int[]? rowOrder) => new()
    {
        Name = hfName, FileTensorName = info.Name, Shape = info.Shape, Format = info.Format,
        Source = File.Mapped, Offset = info.Offset, RowOrder = rowOrder,
    };

    /// <summary>The config from <paramref name="f"/>'s <c><paramref name="arch"/>.*</c> keys (also read by <see cref="GgufSummary"/>).</summary>
    internal static LlamaConfig ReadConfig(GgufFile f, string arch)
    {
        string p = arch + ".";
        int Req(string key) => Opt(key) ?? throw new InvalidDataException($"{f.Path}: metadata key '{p}{key}' is missing");
        int? Opt(string key) => f.TryGetUInt32(p + key) switch
        {
            null => null,
            <= int.MaxValue and var v => (int)v,
            var v => throw new InvalidDataException($"{f.Path}: {p}{key} = {v} is out of range"),
        };

        int hidden = Req("embedding_length"), heads = Req("attention.head_count");
        if (hidden <= 0 || heads <= 0)
            throw new InvalidDataException($"{f.Path}: embedding_length ({hidden}) and attention.head_count ({heads}) must be positive");
        int? keyLength = Opt("attention.key_length"), valueLength = Opt("attention.value_length");
        int? ropeDims = Opt("rope.dimension_count");
        if (keyLength is not null && valueLength is not null && keyLength != valueLength)
            throw new InvalidDataException($"{f.Path}: attention.key_length {keyLength} differs from value_length {valueLength} (not a llama model)");
        int? headDim = keyLength ?? valueLength ?? ropeDims;
        if (ropeDims is not null && ropeDims != (headDim ?? hidden / heads))
            throw new InvalidDataException($"{f.Path}: rope.dimension_count {ropeDims} differs from the head size (partial rotary embeddings are not supported)");
        if (f.TryGetString(p + "rope.scaling.type") is { } scaling && scaling != "none")
            throw new InvalidDataException($"{f.Path}: rope scaling '{scaling}' is not supported (llama3 scaling comes as {GgufTensorNames.RopeFrequencies})");

        int vocab = Opt("vocab_size")
            ?? f.TryGetArray<string>("tokenizer.ggml.tokens")?.Length
            ?? (f.FindTensor("token_embd.weight") is { Dimensions.Length: 2 } e ? VocabFromEmbedding(f, e.Dimensions[1]) : 0);
        int experts = Opt("expert_count") ?? 0;
        int? window = Opt("attention.sliding_window");
        // Mistral and Mixtral are written as "llama"; their extra keys say which family the blocks are.
        var family = arch == ModelFamilies.Qwen3.GgufArchitecture ? ModelFamilies.Qwen3
            : experts > 0 ? ModelFamilies.Mixtral : window is not null ? ModelFamilies.Mistral : ModelFamilies.Llama;
        int? bos = f.TryGetUInt32("tokenizer.ggml.bos_token_id") is uint b and <= int.MaxValue ? (int)b : null;
        int? eos = f.TryGetUInt32("tokenizer.ggml.eos_token_id") is uint e2 and <= int.MaxValue ? (int)e2 : null;

        var config = new LlamaConfig
        {
            ModelType = family.Name,
            HiddenSize = hidden,
            IntermediateSize = Req("feed_forward_length"),
            NumLayers = Req("block_count"),
            NumHeads = heads,
            NumKeyValueHeadsRaw = Opt("attention.head_count_kv") ?? heads,
            HeadDimRaw = headDim ?? (family.RequiredFields.Contains("head_dim") ? hidden / heads : null),
            SlidingWindow = window,
            NumLocalExperts = experts > 0 ? experts : null,
            NumExpertsPerToken = experts > 0 ? Opt("expert_used_count") : null,
            VocabSize = vocab,
            MaxPositionEmbeddings = Opt("context_length") ?? 2048,
            RmsNormEps = Widen(f.GetFloat32(p + "attention.layer_norm_rms_epsilon")),
            RopeTheta = Widen(f.TryGetFloat32(p + "rope.freq_base") ?? 10000f),
            RopeScaling = null, // llama3 scaling travels as rope_freqs.weight (see RopeFrequencyFactors)
            TieWordEmbeddings = f.FindTensor("output.weight") is null,
            BosTokenIds = bos is int bi ? [bi] : [],
            EosTokenIds = eos is int ei ? [ei] : [],
        };
        config.Validate(f.Path);
        return config;
    }

    // The vocabulary size derived from token_embd's rows, bounded before it sizes anything.
    private static int VocabFromEmbedding(GgufFile f, long rows) => rows is > 0 and <= LlamaConfig.MaxVocabSize ? (int)rows
        : throw new InvalidDataException($"{f.Path}: token_embd.weight has {rows:N0} rows, outside the plausible vocabulary sizes 1 to {LlamaConfig.MaxVocabSize:N0}");

    // GGUF stores eps and theta as f32; widening via the shortest round-trip decimal gives back the
    // double config.json had (1e-5, not 9.99999974737875e-06), so configs from both sources compare equal.
    private static double Widen(float x) => double.Parse(x.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
