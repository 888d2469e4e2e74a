// TorchSharpThroughputEngine: the workbench's own forward pass (LlamaModel with its KV cache) as a throughput engine.
using System.Diagnostics;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Evaluation.Throughput;

/// <summary>Times <see cref="LlamaModel.Forward(Tensor, KvCache?)"/>: one prefill batch, then one token at a time.</summary>
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
        using var cache = model.NewCache(prompt.Length + decodeTokens);
        var ids = prompt.Select(t => (long)t).ToArray();
        var clock = Stopwatch.StartNew();
        long next;
        using (var scope = NewDisposeScope())
        {
            var logits = model.Forward(tensor(ids, [1, ids.Length]), cache);
            next = logits[0, -1].argmax().item<long>();
        }
        double prefill = prompt.Length / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int i = 0; i < decodeTokens; i++)
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(new[] { next }, [1, 1]), cache);
            next = logits[0, -1].argmax().item<long>();
        }
        return (prefill, decodeTokens / clock.Elapsed.TotalSeconds);
    }
}
