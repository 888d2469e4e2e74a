// BudgetPlannerTests: plans never exceed their budget, match exhaustive search on small cases, and refuse impossible budgets.
using Compression.Quantization.Planning;

namespace Compression.Tests.Quantization;

public class BudgetPlannerTests
{
    private static IReadOnlyList<TensorChoices> RandomTensors(int count, int seed)
    {
        var rng = new Random(seed);
        string[] formats = ["q1_0", "int2", "int3", "q4_0", "q8_0"];
        double[] bits = [1.125, 2.25, 3.25, 4.5, 8.5];
        return Enumerable.Range(0, count).Select(i =>
        {
            long n = 512L * rng.Next(1, 9); // totals stay under BudgetPlanner.Units bytes, where plans are exact
            double sensitivity = rng.NextDouble() * 2;
            return new TensorChoices($"t{i}", formats.Select((f, k) =>
                new TensorOption(f, (long)(n * bits[k] / 8), sensitivity * Math.Pow(2, -2 * bits[k]) * (1 + 0.3 * rng.NextDouble()))).ToList());
        }).ToList();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_plan_never_exceeds_its_budget_and_is_the_exhaustive_optimum(int seed)
    {
        var tensors = RandomTensors(5, seed);
        long min = tensors.Sum(t => t.Options.Min(o => o.Bytes)), max = tensors.Sum(t => t.Options.Max(o => o.Bytes));
        for (long budget = min; budget <= max; budget += (max - min) / 17)
        {
            var plan = BudgetPlanner.Plan(tensors, budget);
            Assert.True(plan.Bytes <= budget, $"plan of {plan.Bytes} bytes exceeds {budget}");
            Assert.Equal(plan.Choices.Values.Sum(o => o.Bytes), plan.Bytes);
            if (budget > BudgetPlanner.Units) continue;
            double best = Exhaustive(tensors, budget);
            // Budgets up to BudgetPlanner.Units bytes are planned byte-exactly: the optimum itself.
            Assert.True(Math.Abs(plan.PredictedLoss - best) <= 1e-12, $"budget {budget}: plan loss {plan.PredictedLoss:G6} vs optimum {best:G6}");
        }
    }

    [Fact]
    public void More_budget_never_predicts_more_loss_and_rules_name_every_tensor()
    {
        var tensors = RandomTensors(6, 9);
        long min = tensors.Sum(t => t.Options.Min(o => o.Bytes)), max = tensors.Sum(t => t.Options.Max(o => o.Bytes));
        var small = BudgetPlanner.Plan(tensors, min + (max - min) / 4);
        var large = BudgetPlanner.Plan(tensors, min + (max - min) / 2);
        Assert.True(large.PredictedLoss <= small.PredictedLoss);
        Assert.Equal(6, large.TensorTypeRules.Count);
        Assert.Contains(@"^t0$=", large.TensorTypeRules[0]);
        var layers = BudgetPlanner.Plan([new TensorChoices("model.layers.3", [new TensorOption("q4_0", 10, 0.1)])], 10);
        Assert.Equal([@"^model\.layers\.3\.=q4_0"], layers.TensorTypeRules);
        Assert.All(BudgetPlanner.Plan(tensors, max).Choices.Values, o => Assert.Equal("q8_0", o.Format));
    }

    [Fact]
    public void A_budget_below_the_smallest_formats_is_a_clear_error()
    {
        var tensors = RandomTensors(3, 4);
        long min = tensors.Sum(t => t.Options.Min(o => o.Bytes));
        var e = Assert.Throws<ArgumentException>(() => BudgetPlanner.Plan(tensors, min - 1));
        Assert.Contains("is below the smallest plan", e.Message);
    }

    private static double Exhaustive(IReadOnlyList<TensorChoices> tensors, long budget)
    {
        double best = double.PositiveInfinity;
        void Walk(int i, long bytes, double loss)
        {
            if (bytes > budget) return;
            if (i == tensors.Count) { best = Math.Min(best, loss); return; }
            foreach (var o in tensors[i].Options) Walk(i + 1, bytes + o.Bytes, loss + o.PredictedLoss);
        }
        Walk(0, 0, 0);
        return best;
    }
}
