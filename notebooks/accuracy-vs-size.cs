#:project ../src/Compression/Compression.csproj
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
// Accuracy vs size on the proxy: what each format keeps of the trained proxy's skills on the synthetic suite,
// read from the quickstart's committed result records (results/records/*.json) — no model is run here.
// Run: dotnet run notebooks/accuracy-vs-size.cs [RESULTS_DIR]
using Compression.Reporting;

string root = args.Length > 0 ? args[0] : "results";
var set = new ResultsStore(root).LoadAll();
foreach (var error in set.Errors) Console.WriteLine($"skipped {error.Path}: {error.Message}");
var choice = set.Records.Where(r => r.Metrics.ContainsKey(MetricNames.Accuracy)).ToList();
if (choice.Count == 0)
{
    Console.WriteLine($"{root}: no multiple-choice records yet — run `compress run` first.");
    return;
}

var tasks = choice.Select(r => r.Task.Name).Distinct().Order().ToList();
var formats = choice.GroupBy(r => (r.Format, r.Policy)).OrderByDescending(g => g.First().Size?.BitsPerWeight ?? 0).ToList();
Console.WriteLine($"Accuracy (95% Wilson interval) per format, {choice[0].Model.Name}:");
Console.WriteLine($"  {"format",-22} {"bits/w",7} {"MB",7}" + string.Concat(tasks.Select(t => $" {t,22}")) + $" {"mean",6}");
var points = new List<QualityPoint>();
foreach (var g in formats)
{
    var first = g.First();
    var cells = tasks.Select(t => g.FirstOrDefault(r => r.Task.Name == t)?.Metrics[MetricNames.Accuracy]).ToList();
    double mean = cells.Where(c => c is not null).Average(c => c!.Value);
    string label = first.Policy == "baseline" ? $"{first.Format} (baseline)" : $"{first.Format} ({first.Policy})";
    Console.WriteLine($"  {label,-22} {first.Size?.BitsPerWeight,7:F2} {first.Size?.Bytes / 1e6,7:F2}" +
        string.Concat(cells.Select(c => c is null ? $" {"—",22}" : $" {c.Value:F3} [{c.Lower:F3}, {c.Upper:F3}]".PadLeft(23))) + $" {mean,6:F3}");
    if (first.Size is { } size) points.Add(new QualityPoint(label, size.Bytes, size.BitsPerWeight, mean, IsBaseline: first.Policy == "baseline"));
}

// Chance levels come from the suite's own manifest when it is at hand (.cache/proxy/suite/suite.json).
var chance = new Dictionary<string, double>();
if (File.Exists(".cache/proxy/suite/suite.json"))
    foreach (var c in Compression.Training.Suite.SuiteManifest.Read(".cache/proxy/suite").Categories) chance[c.Name] = c.Chance;
if (tasks.All(chance.ContainsKey))
{
    Console.WriteLine($"\nChance level averaged over these tasks: {tasks.Average(t => chance[t]):F3}. Above chance by more than the interval:");
    var baseline = formats.First().ToList();
    foreach (var t in tasks)
        if (baseline.FirstOrDefault(r => r.Task.Name == t)?.Metrics[MetricNames.Accuracy] is { } acc)
            Console.WriteLine($"  {t,-12} baseline {acc.Value:F3} vs chance {chance[t]:F2}: {(acc.Lower > chance[t] ? "yes" : "no — the model has not learned this skill")}");
}
var best = points.MaxBy(p => p.Value)!;
var front = ParetoFront.Select(points, p => p.SizeBytes, p => p.Value, higherIsBetter: true);
Console.WriteLine($"Pareto front (smallest size for its accuracy): {string.Join(" → ", front.Select(p => p.Label))}.");

Directory.CreateDirectory("notebooks/out");
var chart = Charts.SizeVsQuality(points, "mean suite accuracy", higherIsBetter: true, "notebooks/out/accuracy-vs-size", SizeAxis.Megabytes);
Console.WriteLine($"chart: {chart.PngPath}");
