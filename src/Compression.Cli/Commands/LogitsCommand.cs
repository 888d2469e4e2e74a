// compress logits: the logits of every position as JSON (row i = logits after token i), for cross-checking implementations.
using System.CommandLine;
using System.Text.Json;
using Compression.Checkpoints;
using Compression.Engines.LlamaCpp;
using Compression.Tokenization;

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
        var engine = new Option<string>("--engine") { Description = "torchsharp (the workbench's forward), llama.cpp (a GGUF file; F32 KV cache, no flash attention) or onnxruntime (a folder from compress export --to onnx)", DefaultValueFactory = _ => "torchsharp" };
        var command = new Command("logits", "Print the logits of every position as a JSON array of arrays (standard output holds only the JSON)")
        {
            model, device, dtype, tokens, text, engine,
        };
        command.SetAction(parse =>
        {
            var logits = parse.GetValue(engine) switch
            {
                "torchsharp" => Ours(parse.GetValue(model)!, parse.GetValue(device)!, parse.GetValue(dtype)!, parse.GetValue(tokens), parse.GetValue(text)),
                LlamaCppRuntime.EngineName => LlamaCpp(parse.GetValue(model)!, parse.GetValue(tokens), parse.GetValue(text)),
                "onnxruntime" => Onnx(parse.GetValue(model)!, parse.GetValue(tokens), parse.GetValue(text)),
                var other => throw new ArgumentException($"--engine {other}: expected torchsharp, llama.cpp or onnxruntime"),
            };
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

    private static float[,] Ours(string path, string device, string dtype, string? tokens, string? text)
    {
        using var session = CliOptions.Load(path, device, dtype);
        int[] ids = tokens is { } list ? ParseIds(list, session.Config.VocabSize)
            : text is { } t ? session.RequireTokenizer().Encode(t)
            : throw new ArgumentException("give --tokens 1,2,3 or --text TEXT");
        return session.Model.Logits(ids);
    }

    /// <summary>llama.cpp on the GGUF file, text tokenized by the workbench's tokenizer from the same file.</summary>
    private static float[,] LlamaCpp(string path, string? tokens, string? text)
    {
        if (!File.Exists(path) || Directory.Exists(path)) throw new ArgumentException($"--model {path}: llama.cpp needs a .gguf file (compress quantize writes one)");
        // Metadata only, so llama.cpp's own file types (Q4_K_M …) are read too.
        Compression.Checkpoints.Gguf.GgufSummary summary;
        try { summary = Compression.Checkpoints.Gguf.GgufSummary.Read(path); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{LlamaCppRuntime.EngineName} cannot load {e.Message}", e); }
        int vocab = summary.Config.VocabSize;
        TokenizerData? tokenizer = summary.Tokenizer;
        int[] ids = tokens is { } list ? ParseIds(list, vocab)
            : text is { } t ? new LlamaTokenizer(tokenizer ?? throw new InvalidDataException($"{path}: the checkpoint has no tokenizer; pass --tokens")).Encode(t)
            : throw new ArgumentException("give --tokens 1,2,3 or --text TEXT");
        using var model = LlamaCppModel.Load(path, new LlamaCppOptions { ContextSize = ids.Length, BatchSize = ids.Length, ExactAttention = true });
        return model.Logits(ids);
    }

    /// <summary>ONNX Runtime on an exported folder, text tokenized by the folder's tokenizer.json.</summary>
    private static float[,] Onnx(string dir, string? tokens, string? text)
    {
        if (!Directory.Exists(dir)) throw new ArgumentException($"--model {dir}: onnxruntime needs the folder compress export --to onnx wrote");
        using var model = Compression.Engines.OnnxRuntime.OnnxRuntimeLanguageModel.Open(dir);
        int[] ids = tokens is { } list ? ParseIds(list, model.VocabSize)
            : text is { } t ? model.Encode(t, addBos: true)
            : throw new ArgumentException("give --tokens 1,2,3 or --text TEXT");
        float[] flat = model.AllLogits(ids);
        var result = new float[ids.Length, model.VocabSize];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
        return result;
    }

    internal static int[] ParseIds(string list, int vocab)
    {
        var ids = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
            int.TryParse(s, out int id) && id >= 0 && id < vocab ? id
                : throw new ArgumentException($"--tokens: '{s}' is not a token id in [0, {vocab})")).ToArray();
        return ids.Length > 0 ? ids : throw new ArgumentException("--tokens: no token ids given");
    }
}
