// RealVocabularyAllocationTests: at Llama 3's 128,256-token vocabulary, scoring a question, scoring a window and
// generating allocate a bounded amount of managed memory — far less than one (T × V) float copy of the logits.
using Compression.Evaluation;
using Compression.Inference;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Tests.Evaluation;

public sealed class RealVocabularyAllocationTests
{
    private const int Vocab = 128_256;

    private static LlamaModel TinyModelWithRealVocabulary() => LlamaModel.CreateRandom(new LlamaConfig
    {
        HiddenSize = 64, IntermediateSize = 128, NumLayers = 2, NumHeads = 4, NumKeyValueHeadsRaw = 2,
        VocabSize = Vocab, MaxPositionEmbeddings = 4096, RopeTheta = 500000,
    }, seed: 7);

    private static int[] Tokens(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(Vocab)).ToArray();
    }

    /// <summary>Managed bytes this thread allocates while running <paramref name="action"/>.</summary>
    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Scoring_a_long_multiple_choice_question_allocates_far_less_than_its_logits()
    {
        using var model = TinyModelWithRealVocabulary();
        using var lm = new LlamaLanguageModel(model, (_, _) => throw new NotSupportedException(), _ => 1);
        var context = Tokens(600, 1);
        var requests = Enumerable.Range(0, 4).Select(i => new LogLikelihoodRequest(context, Tokens(12, 10 + i))).ToArray();
        lm.LogLikelihood(requests); // warm-up: the KV cache and rotary tables are made once
        long bytes = Allocated(() => lm.LogLikelihood(requests));
        long logitsCopy = 600L * Vocab * sizeof(float); // what copying the context's logits would take: ~308 MB
        Assert.True(bytes < 4_000_000, $"{bytes:N0} managed bytes for 4 choices (one T×V copy would be {logitsCopy:N0})");
    }

    [Fact]
    public void Scoring_a_window_hands_out_rows_without_copying_them()
    {
        using var model = TinyModelWithRealVocabulary();
        using var lm = new LlamaLanguageModel(model, (_, _) => throw new NotSupportedException(), _ => 1);
        var tokens = Tokens(300, 2);
        var sink = new CountingSink();
        lm.ScoreTokens(tokens, 1, sink);
        long bytes = Allocated(() => lm.ScoreTokens(tokens, 1, sink));
        Assert.Equal(2 * 299, sink.Rows);
        Assert.True(bytes < 2_000_000, $"{bytes:N0} managed bytes for a 300-token window");
    }

    [Fact]
    public void Generating_allocates_a_bounded_amount_per_token()
    {
        using var model = TinyModelWithRealVocabulary();
        var prompt = Tokens(50, 3);
        var sampling = new SamplingOptions { Temperature = 0.8, TopP = 0.95, Seed = 1 };
        long Run(int tokens) => Allocated(() => TextGenerator.Generate(model, prompt, tokens, sampling, _ => true));
        Run(4); // warm-up
        long few = Run(8), many = Run(40);
        // 32 more tokens cost at most ~100 KB each: the logits row and the sampler's buffers (≈ 3 MB at this vocabulary)
        // are made once per generation, not per token.
        Assert.True(many - few < 32 * 100_000, $"8 tokens: {few:N0} bytes, 40 tokens: {many:N0} bytes");
    }

    private sealed class CountingSink : ITokenScoreSink
    {
        public int Rows;
        public void Accept(int position, int actualToken, ReadOnlySpan<float> logProbs)
        {
            if (logProbs.Length != Vocab) throw new InvalidOperationException("short row");
            Rows++;
        }
    }
}
