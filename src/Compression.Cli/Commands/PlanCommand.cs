// compress plan: mixed precision under a byte budget — a format per tensor from a sensitivity table, as --tensor-type rules.
using System.CommandLine;
using Compression.Experiments;
using Compression.IO;
using Compression.Quantization.Planning;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class PlanCommand
{
    public static Command Create()
    {
        var sensitivity = new Option<string>("--sensitivity", "-s") { Description = "sensitivity.json written by compress sensitivity", Required = true };
        var budget = new Option<string>("--budget", "-b") { Description = "Budget for the scanned tensors: bits per weight (3.5bpw) or a size (2.5GB, 800MB)", Required = true };
        var formats = new Option<string[]>("--formats") { Description = "Formats a tensor may take (default: every format in the table)", AllowMultipleArgumentsPerToken = true };
        var method = new Option<string>("--method") { Description = "Method whose sensitivities to plan with", DefaultValueFactory = _ => "rtn" };
        var output = new Option<string?>("--out", "-o") { Description = "Write the plan (rules, bytes, predicted KL) as JSON here" };
        var command = new Command("plan", "Choose a format per tensor to minimise the summed measured KL within a byte budget; prints --tensor-type rules")
        {
            sensitivity, budget, formats, method, output,
        };
        command.SetAction(parse =>
        {
            var entries = SensitivityScan.Load(parse.GetValue(sensitivity)!);
            var allowed = parse.GetValue(formats) is { Length: > 0 } f ? f.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToHashSet() : null;
            var choices = SensitivityScan.Choices(entries, parse.GetValue(method)!, allowed);
            long parameters = entries.GroupBy(e => e.Tensor).Sum(g => g.First().Parameters);
            long bytes = SensitivityScan.ParseBudget(parse.GetValue(budget)!, parameters);
            var plan = BudgetPlanner.Plan(choices, bytes);
            foreach (string rule in plan.TensorTypeRules) Console.WriteLine($"--tensor-type '{rule}'");
            SweepConsole.Err.MarkupLine($"[grey]{plan.Bytes:N0} of {bytes:N0} bytes ({8.0 * plan.Bytes / parameters:0.000} bits/weight over {parameters:N0} parameters), predicted KL {plan.PredictedLoss:G4} (sum of per-tensor KL)[/]");
            if (parse.GetValue(output) is { } path)
                AtomicFile.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(new
                {
                    budgetBytes = bytes, bytes = plan.Bytes, bitsPerWeight = 8.0 * plan.Bytes / parameters, predictedKl = plan.PredictedLoss,
                    rules = plan.TensorTypeRules,
                }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }
}
