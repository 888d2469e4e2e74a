// TorchSharpThroughputEngine: the workbench's own forward pass (LlamaModel with its KV cache) as a throughput engine.
using System.Diagnostics;
using Compression.Kernels;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Evaluation.Throughput;

/// <summary>
/// Times the model through its KV cache: one prefill batch, then one token at a time. As in generation (and in
/// llama-bench), the LM head runs on the last position only, and the prompt is prefilled with generation's
/// arithmetic (<see cref="PrefillActivations.Mode.Q8"/>).
/// </summary>
public sealed class TorchSharpThroughputEngine(LlamaModel model) : IThroughputEngine
{
    public const string EngineName = "torchsharp";

    public string Name => EngineName;
    public int VocabSize => model.Config.VocabSize;
    public int MaxPositions => model.Config.MaxPositionEmbeddings;
    public int Threads => get_num_threads();

    public (double PrefillTokensPerSecond, double DecodeTokensPerSecond) RunOnce(int[] prompt, int decodeTokens)
    {
        using var noGrad = no_grad();
        using var arithmetic = PrefillActivations.Use(PrefillActivations.Mode.Q8);
        using var cache = model.NewCache(prompt.Length + decodeTokens);
        var ids = prompt.Select(t => (long)t).ToArray();
        var clock = Stopwatch.StartNew();
        long next;
        using (var scope = NewDisposeScope())
        {
            next = NextToken(tensor(ids, [1, ids.Length]), cache);
        }
        double prefill = prompt.Length / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int i = 0; i < decodeTokens; i++)
        {
            using var scope = NewDisposeScope();
            next = NextToken(tensor(new[] { next }, [1, 1]), cache);
        }
        return (prefill, decodeTokens / clock.Elapsed.TotalSeconds);
    }

    /// <summary>Greedy next token after <paramref name="ids"/> (1, T): the head on the last hidden state only.</summary>
    private long NextToken(Tensor ids, KvCache cache)
    {
        var hidden = model.Hidden(ids, cache);                                    // (1, T, H)
        return model.Head(hidden[0].narrow(0, ids.shape[1] - 1, 1)).argmax().item<long>();
    }
}
