// BudgetPlanner: mixed precision under a byte budget — a format per tensor minimising the predicted loss (summed
// per-tensor sensitivities) within the budget, emitted as --tensor-type rules.
using System.Text.RegularExpressions;

namespace Compression.Quantization.Planning;

/// <summary>One way to store one tensor: its format, its bytes in that format, and the loss predicted for it (e.g. the KL
/// divergence measured with only this tensor quantized to this format).</summary>
public sealed record TensorOption(string Format, long Bytes, double PredictedLoss);

/// <summary>A tensor (HF name) and the formats it may take.</summary>
public sealed record TensorChoices(string Tensor, IReadOnlyList<TensorOption> Options);

/// <summary>The chosen format per tensor, with the plan's bytes and predicted loss.</summary>
public sealed record BudgetPlan(IReadOnlyDictionary<string, TensorOption> Choices, long Bytes, double PredictedLoss)
{
    /// <summary>
    /// The plan as <c>--tensor-type</c> rules (anchored regexes on the HF names), in name order. A whole layer
    /// ("model.layers.3", from a per-layer scan) matches every tensor under it.
    /// </summary>
    public IReadOnlyList<string> TensorTypeRules =>
        Choices.OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => (Regex.IsMatch(c.Key, @"^model\.layers\.\d+$") ? $"^{Regex.Escape(c.Key)}\\." : $"^{Regex.Escape(c.Key)}$") + $"={c.Value.Format}")
            .ToList();
}

/// <summary>
/// Multiple-choice knapsack by dynamic programming over the budget in units of ⌈budget / 200,000⌉ bytes: each tensor's
/// bytes are rounded up to whole units, so a plan never exceeds the budget, and with budgets up to 200,000 bytes (unit
/// = 1 byte) the plan is the exact optimum. Losses are assumed additive across tensors.
/// </summary>
public static class BudgetPlanner
{
    /// <summary>Budget resolution of the dynamic program.</summary>
    public const int Units = 200_000;

    /// <summary>The plan for <paramref name="tensors"/> within <paramref name="budgetBytes"/>; throws when even the smallest formats do not fit.</summary>
    public static BudgetPlan Plan(IReadOnlyList<TensorChoices> tensors, long budgetBytes)
    {
        foreach (var t in tensors)
            if (t.Options.Count == 0) throw new ArgumentException($"plan: tensor {t.Tensor} has no format to choose from");
        long smallest = tensors.Sum(t => t.Options.Min(o => o.Bytes));
        if (smallest > budgetBytes)
            throw new ArgumentException($"plan: the budget of {budgetBytes:N0} bytes is below the smallest plan ({smallest:N0} bytes, every tensor at its smallest format)");
        long unit = Math.Max(1, (budgetBytes + Units - 1) / Units);
        int capacity = (int)(budgetBytes / unit);
        // best[c] = least loss of the tensors so far within c units; choice[i][c] = option taken for tensor i.
        var best = new double[capacity + 1];
        var choice = new int[tensors.Count][];
        for (int i = 0; i < tensors.Count; i++)
        {
            var next = new double[capacity + 1];
            choice[i] = new int[capacity + 1];
            var options = tensors[i].Options;
            for (int c = 0; c <= capacity; c++)
            {
                double bestHere = double.PositiveInfinity;
                int taken = -1;
                for (int k = 0; k < options.Count; k++)
                {
                    long cost = (options[k].Bytes + unit - 1) / unit;
                    if (cost > c) continue;
                    double loss = best[c - cost] + options[k].PredictedLoss;
                    if (loss < bestHere) (bestHere, taken) = (loss, k);
                }
                next[c] = bestHere;
                choice[i][c] = taken;
            }
            best = next;
        }
        if (double.IsPositiveInfinity(best[capacity]))
            throw new ArgumentException($"plan: the budget of {budgetBytes:N0} bytes is too tight to place every tensor at its smallest format after rounding to {unit:N0}-byte units");
        var choices = new Dictionary<string, TensorOption>();
        for (int i = tensors.Count - 1, c = capacity; i >= 0; i--)
        {
            var o = tensors[i].Options[choice[i][c]];
            choices[tensors[i].Tensor] = o;
            c -= (int)((o.Bytes + unit - 1) / unit);
        }
        return new BudgetPlan(choices, choices.Values.Sum(o => o.Bytes), choices.Values.Sum(o => o.PredictedLoss));
    }
}
