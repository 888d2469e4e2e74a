// OnnxRuntimeThroughputEngine: an exported ONNX folder timed through ONNX Runtime GenAI — its own generator and KV cache,
// one prefill batch, then greedy decode — the way an application deploying the folder would run it.
using System.Diagnostics;
using Compression.Evaluation.Throughput;
using Compression.Export.Onnx;
using Microsoft.ML.OnnxRuntimeGenAI;
using GenAiModel = Microsoft.ML.OnnxRuntimeGenAI.Model;

namespace Compression.Engines.OnnxRuntime;

/// <summary>
/// Runs GenAI's <see cref="Generator"/> on the folder: <c>AppendTokens</c>(prompt) is the prefill (one forward over the
/// whole prompt into GenAI's KV buffer), then each <c>GenerateNextToken</c> picks the greedy token from the last logits and
/// runs one forward for it. Greedy search comes from the folder's genai_config.json (do_sample false); EOS is masked
/// (min_length) so every run decodes the same number of tokens whatever the random prompt predicts.
/// A fresh generator per run starts from an empty cache, like the other engines' runs.
/// </summary>
public sealed class OnnxRuntimeThroughputEngine : IThroughputEngine, IDisposable
{
    private readonly Config _config;
    private readonly GenAiModel _model;

    public OnnxModelFolder Folder { get; }
    public string Name => OnnxRuntimeLanguageModel.EngineName;
    public int VocabSize => Folder.VocabSize;
    /// <summary>GenAI's buffer holds max_length tokens, the last of which is chosen but never run: one fewer positions than the export's context.</summary>
    public int MaxPositions => Folder.ContextLength - 1;
    public int Threads { get; }

    private OnnxRuntimeThroughputEngine(OnnxModelFolder folder, Config config, GenAiModel model, int threads)
    {
        Folder = folder; _config = config; _model = model; Threads = threads;
    }

    /// <summary>Opens <paramref name="dir"/> in GenAI with <paramref name="threads"/> intra-op threads; errors name the engine and the folder.</summary>
    public static OnnxRuntimeThroughputEngine Open(string dir, int threads)
    {
        if (threads < 1) throw new ArgumentException($"threads must be positive, got {threads}");
        var folder = OnnxModelFolder.Open(dir, OnnxRuntimeLanguageModel.EngineName);
        Config? config = null;
        try
        {
            config = new Config(Path.GetFullPath(dir));
            // The folder's session options with this run's thread count (GenAI otherwise lets ONNX Runtime take every core).
            config.Overlay($$"""{ "model": { "decoder": { "session_options": { "intra_op_num_threads": {{threads}}, "inter_op_num_threads": 1 } } } }""");
            return new OnnxRuntimeThroughputEngine(folder, config, new GenAiModel(config), threads);
        }
        catch (OnnxRuntimeGenAIException e)
        {
            config?.Dispose();
            throw new InvalidDataException($"{OnnxRuntimeLanguageModel.EngineName}: ONNX Runtime GenAI cannot load {dir}: {e.Message}");
        }
    }

    public (double PrefillTokensPerSecond, double DecodeTokensPerSecond) RunOnce(int[] prompt, int decodeTokens)
    {
        using var generator = NewGenerator(prompt.Length + decodeTokens + 1);
        var clock = Stopwatch.StartNew();
        generator.AppendTokens(prompt);
        generator.GenerateNextToken(); // picks the first token from the prefill's logits: no forward
        double prefill = prompt.Length / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int i = 0; i < decodeTokens; i++) generator.GenerateNextToken(); // one forward of the previous token, then its pick
        return (prefill, decodeTokens / clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The <paramref name="steps"/> greedy tokens GenAI appends after <paramref name="prompt"/> (EOS masked), through the
    /// same calls <see cref="RunOnce"/> times — for checking that what is timed decodes what the model predicts.
    /// </summary>
    public int[] Greedy(int[] prompt, int steps)
    {
        if (prompt.Length + steps > MaxPositions + 1)
            throw new ArgumentException($"{prompt.Length} prompt + {steps} tokens exceed the export's {Folder.ContextLength} positions");
        using var generator = NewGenerator(prompt.Length + steps);
        generator.AppendTokens(prompt);
        for (int i = 0; i < steps; i++) generator.GenerateNextToken();
        return generator.GetSequence(0).ToArray()[prompt.Length..];
    }

    /// <summary>
    /// Greedy generation as an application runs it (for <c>compress generate</c>): up to <paramref name="maxTokens"/> tokens
    /// after <paramref name="prompt"/>, stopping after EOS. The first token comes from the prompt's prefill.
    /// </summary>
    public IEnumerable<int> Generate(int[] prompt, int maxTokens)
    {
        int length = Math.Min(prompt.Length + maxTokens, Folder.ContextLength);
        if (length <= prompt.Length)
            throw new ArgumentException($"a {prompt.Length}-token prompt leaves no room in the export's {Folder.ContextLength} positions");
        using var generator = NewGenerator(length, maskEos: false);
        generator.AppendTokens(prompt);
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
            int token = generator.GetSequence(0)[^1];
            yield return token;
        }
    }

    private Generator NewGenerator(int maxLength, bool maskEos = true)
    {
        using var p = new GeneratorParams(_model);
        p.SetSearchOption("max_length", maxLength);
        if (maskEos) p.SetSearchOption("min_length", maxLength); // no EOS stop: a fixed number of decoded tokens per run
        return new Generator(_model, p);
    }

    public void Dispose()
    {
        _model.Dispose();
        _config.Dispose();
    }
}
