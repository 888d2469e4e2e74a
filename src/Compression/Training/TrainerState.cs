// TrainerState: the JSON record (trainer_state.json) of where a run is — step, data identity, loss history.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Compression.Training;

/// <summary>One optimizer step in the loss history; a distillation run also records its cross-entropy and KL parts.</summary>
public sealed record StepRecord(
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("lr")] double LearningRate,
    [property: JsonPropertyName("grad_norm")] double GradNorm,
    [property: JsonPropertyName("ce"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? CrossEntropy = null,
    [property: JsonPropertyName("kl"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Kl = null);

/// <summary>One validation pass; <see cref="Kl"/> is the mean KL divergence from the teacher when the run has one.</summary>
public sealed record EvalRecord(
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("perplexity")] double Perplexity,
    [property: JsonPropertyName("kl"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Kl = null);

/// <summary>
/// Everything besides weights and optimizer moments that a resumed run needs. The data order has no RNG
/// state: training windows are a pure function of (seed, step, row) (<see cref="TokenWindows"/>), so
/// <see cref="Step"/> is the RNG position.
/// </summary>
public sealed record TrainerState
{
    public const string FileName = "trainer_state.json";

    [JsonPropertyName("step")] public int Step { get; init; }
    [JsonPropertyName("options")] public required TrainingOptions Options { get; init; }
    [JsonPropertyName("data_order")] public string DataOrder { get; init; } = "splitmix64(seed, step, row) window starts";
    /// <summary>Length and FNV-1a hash of the token streams, so a resume with different data is refused.</summary>
    [JsonPropertyName("train_tokens")] public long TrainTokens { get; init; }
    [JsonPropertyName("train_fingerprint")] public string TrainFingerprint { get; init; } = "";
    [JsonPropertyName("valid_tokens")] public long ValidTokens { get; init; }
    [JsonPropertyName("valid_fingerprint")] public string ValidFingerprint { get; init; } = "";
    [JsonPropertyName("elapsed_seconds")] public double ElapsedSeconds { get; init; }
    [JsonPropertyName("history")] public List<StepRecord> History { get; init; } = [];
    [JsonPropertyName("evaluations")] public List<EvalRecord> Evaluations { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads trainer_state.json; throws <see cref="InvalidDataException"/> naming the file.</summary>
    public static TrainerState Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: trainer state is missing");
        TrainerState? state;
        try { state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid trainer state ({e.Message})", e); }
        if (state is null) throw new InvalidDataException($"{path}: empty trainer state");
        if (state.Step < 0 || state.Step > state.Options.TotalSteps)
            throw new InvalidDataException($"{path}: step {state.Step} is outside 0..total_steps ({state.Options.TotalSteps})");
        try { state.Options.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        return state;
    }

    /// <summary>64-bit FNV-1a of the tokens, as hex.</summary>
    public static string Fingerprint(ReadOnlySpan<int> tokens)
    {
        ulong h = 14695981039346656037UL;
        foreach (int t in tokens) { h ^= (uint)t; h *= 1099511628211UL; }
        return h.ToString("x16");
    }
}
