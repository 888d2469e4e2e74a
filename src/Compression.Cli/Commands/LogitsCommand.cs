// compress logits: the logits of every position as JSON (row i = logits after token i), for cross-checking implementations.
using System.CommandLine;
using System.Text.Json;

namespace Compression.Cli.Commands;

internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var device = CliOptions.Device();
        var dtype = CliOptions.DType();
        var tokens = new Option<string?>("--tokens", "-t") { Description = "Comma-separated token ids, e.g. 1,2,3" };
        var text = new Option<string?>("--text") { Description = "Text to tokenize (with BOS) instead of --tokens" };
        var command = new Command("logits", "Print the logits of every position as a JSON array of arrays (standard output holds only the JSON)")
        {
            model, device, dtype, tokens, text,
        };
        command.SetAction(parse =>
        {
            using var session = CliOptions.Load(parse.GetValue(model)!, parse.GetValue(device)!, parse.GetValue(dtype)!);
            int[] ids = parse.GetValue(tokens) is { } list ? ParseIds(list, session.Config.VocabSize)
                : parse.GetValue(text) is { } t ? session.RequireTokenizer().Encode(t)
                : throw new ArgumentException("give --tokens 1,2,3 or --text TEXT");
            var logits = session.Model.Logits(ids);
            using var stdout = Console.OpenStandardOutput();
            using var json = new Utf8JsonWriter(stdout);
            json.WriteStartArray();
            for (int i = 0; i < logits.GetLength(0); i++)
            {
                json.WriteStartArray();
                for (int j = 0; j < logits.GetLength(1); j++) json.WriteNumberValue(logits[i, j]);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.Flush();
            stdout.WriteByte((byte)'\n');
            return 0;
        });
        return command;
    }

    internal static int[] ParseIds(string list, int vocab)
    {
        var ids = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
            int.TryParse(s, out int id) && id >= 0 && id < vocab ? id
                : throw new ArgumentException($"--tokens: '{s}' is not a token id in [0, {vocab})")).ToArray();
        return ids.Length > 0 ? ids : throw new ArgumentException("--tokens: no token ids given");
    }
}
