// EngineGeneration: compress generate on another engine — greedy decoding by llama.cpp or by ONNX Runtime GenAI, each
// through its own KV cache.
using System.Diagnostics;
using Compression.Checkpoints.Gguf;
using Compression.Engines.LlamaCpp;
using Compression.Engines.OnnxRuntime;
using Compression.Tokenization;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class EngineGeneration
{
    public static int Greedy(string engine, string path, string prompt, int maxTokens, CancellationToken cancel)
    {
        if (maxTokens < 1) throw new ArgumentException($"--max-tokens must be positive, got {maxTokens}");
        switch (engine)
        {
            case LlamaCppRuntime.EngineName:
            {
                if (!File.Exists(path)) throw new ArgumentException($"--model {path}: llama.cpp needs a .gguf file");
                GgufSummary summary;
                try { summary = GgufSummary.Read(path); }
                catch (InvalidDataException e) { throw new InvalidDataException($"{LlamaCppRuntime.EngineName} cannot load {e.Message}", e); }
                var tokenizer = new LlamaTokenizer(summary.Tokenizer ?? throw new InvalidDataException($"{path}: the GGUF has no tokenizer"));
                int[] ids = tokenizer.Encode(prompt);
                using var model = LlamaCppModel.Load(path, new LlamaCppOptions { ContextSize = ids.Length + maxTokens, BatchSize = Math.Max(1, ids.Length) });
                var clock = Stopwatch.StartNew();
                int next = model.Prefill(ids);
                double prefill = ids.Length / clock.Elapsed.TotalSeconds;
                return Stream(tokenizer, prompt, ids.Length, prefill, next, maxTokens, (token, position) => model.DecodeOne(token, position), cancel);
            }
            case OnnxRuntimeLanguageModel.EngineName:
            {
                // GenAI's own generator: one prefill, then each token through its KV cache.
                using var genai = OnnxRuntimeThroughputEngine.Open(path, Environment.ProcessorCount);
                LlamaTokenizer tokenizer;
                using (var model = OnnxRuntimeLanguageModel.Open(path)) tokenizer = model.Tokenizer; // the checked tokenizer.json
                int[] ids = tokenizer.Encode(prompt);
                using var tokens = genai.Generate(ids, maxTokens).GetEnumerator();
                var clock = Stopwatch.StartNew();
                if (!tokens.MoveNext()) throw new InvalidOperationException($"{path}: ONNX Runtime GenAI generated nothing");
                double prefill = ids.Length / clock.Elapsed.TotalSeconds;
                return Stream(tokenizer, prompt, ids.Length, prefill, tokens.Current, maxTokens,
                    (_, _) => tokens.MoveNext() ? tokens.Current : -1, cancel); // -1: GenAI stopped (its EOS, or the export's positions)
            }
            default:
                throw new ArgumentException($"--engine {engine}: expected torchsharp, llama.cpp or onnxruntime");
        }
    }

    private static int Stream(LlamaTokenizer tokenizer, string prompt, int promptTokens, double prefill, int next, int maxTokens,
        Func<int, int, int> step, CancellationToken cancel)
    {
        var decoder = tokenizer.CreateStreamingDecoder(skipSpecial: true);
        Console.Write(prompt);
        var clock = Stopwatch.StartNew();
        int generated = 0;
        while (generated < maxTokens && next >= 0 && !tokenizer.IsEndOfGeneration(next))
        {
            cancel.ThrowIfCancellationRequested();
            Console.Write(decoder.Append(next));
            Console.Out.Flush();
            generated++;
            if (generated == maxTokens) break;
            next = step(next, promptTokens + generated - 1);
        }
        Console.WriteLine(decoder.Flush());
        AnsiConsole.MarkupLine($"[grey]prompt {promptTokens} tokens: prefill {prefill:F1} tok/s · generated {generated} tokens: decode {generated / Math.Max(1e-9, clock.Elapsed.TotalSeconds):F1} tok/s[/]");
        return 0;
    }
}
