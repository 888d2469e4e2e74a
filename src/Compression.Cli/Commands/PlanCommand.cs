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
        var spec = new Option<string?>("--spec") { Description = "Also write an experiment spec that measures the plan (policy plan:OUT); needs --out and --text" };
        var model = new Option<string?>("--model", "-m") { Description = "Model the spec evaluates (default: the proxy preset)" };
        var text = new Option<string?>("--text") { Description = "Held-out text the spec measures perplexity and KL divergence on" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens of --text the spec scores", DefaultValueFactory = _ => 2048 };
        var command = new Command("plan", "Choose a format per tensor to minimise the summed measured KL within a byte budget; prints --tensor-type rules")
        {
            sensitivity, budget, formats, method, output, spec, model, text, maxTokens,
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
            string? path = parse.GetValue(output);
            if (path is not null)
                new PlanFile(bytes, plan.Bytes, 8.0 * plan.Bytes / parameters, plan.PredictedLoss, plan.TensorTypeRules).Save(path);
            if (parse.GetValue(spec) is { } specPath)
            {
                if (path is null) throw new ArgumentException("--spec: needs --out (the spec measures the plan file)");
                string textFile = parse.GetValue(text) ?? throw new ArgumentException("--spec: needs --text (the held-out text it measures on)");
                // The plan's most frequent format names the group (only tensors outside the plan — embeddings, LM head — follow it).
                string baseFormat = plan.Choices.Values.GroupBy(o => o.Format).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
                PlanSpec.Write(specPath, path, baseFormat, parse.GetValue(model), textFile, parse.GetValue(maxTokens));
                SweepConsole.Err.MarkupLine($"[grey]spec: {Markup.Escape(specPath)} (compress run {Markup.Escape(specPath)} measures the plan)[/]");
            }
            return 0;
        });
        return command;
    }
}
