// IThroughputEngine: what the throughput benchmark needs from an inference engine — one timed prefill + greedy decode.
namespace Compression.Evaluation.Throughput;

/// <summary>An engine the throughput benchmark can time (the workbench's TorchSharp forward, llama.cpp, ...).</summary>
public interface IThroughputEngine
{
    /// <summary>Name records carry ("torchsharp", "llama.cpp").</summary>
    string Name { get; }
    int VocabSize { get; }
    /// <summary>Most positions a run may use (prefill + decode).</summary>
    int MaxPositions { get; }
    /// <summary>Threads the engine computes with.</summary>
    int Threads { get; }
    /// <summary>
    /// From an empty cache: prefills <paramref name="prompt"/> in one batch, then decodes <paramref name="decodeTokens"/>
    /// tokens greedily one at a time; returns prefill and decode tokens/s.
    /// </summary>
    (double PrefillTokensPerSecond, double DecodeTokensPerSecond) RunOnce(int[] prompt, int decodeTokens);
}
