// PlanFile: a budget plan as a file — its --tensor-type rules with the budget, bytes and predicted KL — and the
// quantization policy a spec gets from it ("policies": ["plan:FILE"]).
using System.Text.Json;
using Compression.IO;

namespace Compression.Quantization.Planning;

/// <summary>
/// What <c>compress plan --out</c> writes: the budget and the plan's bytes over the planned tensors, bits per weight over
/// their parameters, the predicted loss (sum of per-tensor KL) and the <c>PATTERN=FORMAT</c> rules.
/// </summary>
public sealed record PlanFile(long BudgetBytes, long Bytes, double BitsPerWeight, double PredictedKl, IReadOnlyList<string> Rules)
{
    /// <summary>The prefix that makes a spec's policy label a plan file ("plan:results/plans/plan-3.0bpw.json").</summary>
    public const string PolicyPrefix = "plan:";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, s_json));

    /// <summary>Reads a plan; a missing, unreadable or rule-less file is one error naming it.</summary>
    public static PlanFile Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"plan file not found: {path}", path);
        PlanFile? plan;
        try { plan = JsonSerializer.Deserialize<PlanFile>(File.ReadAllText(path), s_json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a plan file ({e.Message.Split(" Path:")[0]})", e); }
        if (plan?.Rules is not { Count: > 0 }) throw new InvalidDataException($"{path}: the plan has no rules");
        try { QuantizationPolicy.ParseOverrides(plan.Rules); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        return plan;
    }

    /// <summary>
    /// The workbench default policy for <paramref name="format"/> with the plan's rules as overrides: the planned tensors
    /// take the plan's formats, the rest (embeddings, LM head) what the default policy gives them. Labelled by the file
    /// name ("plan-3.0bpw"), so records of different plans do not collide.
    /// </summary>
    public static QuantizationPolicy Policy(string path, TensorFormat format)
    {
        var plan = Load(path);
        string stem = Path.GetFileNameWithoutExtension(path);
        return QuantizationPolicy.Default(format) with
        {
            Overrides = QuantizationPolicy.ParseOverrides(plan.Rules),
            Label = stem.StartsWith("plan", StringComparison.OrdinalIgnoreCase) ? stem : "plan-" + stem,
        };
    }
}
