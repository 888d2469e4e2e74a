// PlanSpec: a budget plan as an experiment spec — `compress run` on it quantizes the model with the plan's rules and
// measures its perplexity and KL divergence like any format.
using System.Text.Json;
using Compression.IO;

namespace Compression.Quantization.Planning;

/// <summary>Writes the spec that measures a plan file (policy <c>plan:FILE</c>).</summary>
public static class PlanSpec
{
    /// <summary>
    /// A spec evaluating <paramref name="planPath"/> on <paramref name="model"/> (a checkpoint path; null: the proxy preset):
    /// perplexity and KL divergence on the first <paramref name="maxTokens"/> tokens of <paramref name="textFile"/>
    /// (256-token windows, documents separated by blank lines). Results go to results/{plan file name}.
    /// </summary>
    public static void Write(string specPath, string planPath, string baseFormat, string? model, string textFile, int maxTokens)
    {
        if (maxTokens < 1) throw new ArgumentException($"--max-tokens: must be positive, got {maxTokens}");
        string stem = Path.GetFileNameWithoutExtension(planPath);
        var window = new Dictionary<string, object> { ["file"] = textFile, ["context"] = 256, ["maxTokens"] = maxTokens, ["documentSeparator"] = "\n\n" };
        var spec = new Dictionary<string, object>
        {
            ["name"] = $"Budget plan {stem}",
            ["description"] = $"The mixed-precision plan {planPath} (compress plan): a format per tensor within the budget.",
            ["model"] = model is null ? new Dictionary<string, string> { ["preset"] = "proxy" } : new Dictionary<string, string> { ["path"] = model },
            ["formats"] = new[] { baseFormat },
            ["policies"] = new[] { PlanFile.PolicyPrefix + planPath },
            ["tasks"] = new Dictionary<string, object> { ["perplexity"] = window, ["kl"] = window },
            ["seeds"] = new[] { 1234 },
            ["output"] = Path.Combine("results", stem),
        };
        AtomicFile.WriteAllText(specPath, JsonSerializer.Serialize(spec, new JsonSerializerOptions { WriteIndented = true }));
    }
}
