// LlamaLanguageModelReferenceTests: continuation log-likelihoods of the fixture agree with llama.cpp's reference logits.
using Compression.Evaluation;
using Compression.Inference;
using Compression.Tests.Model;

namespace Compression.Tests.Evaluation;

public sealed class LlamaLanguageModelReferenceTests
{
    /// <summary>Σ log-softmax(row p−1)[token p] over the continuation positions, in float64, from llama.cpp's logits.</summary>
    private static double Reference(float[,] logits, int[] tokens, int from, int to)
    {
        double sum = 0;
        int vocab = logits.GetLength(1);
        for (int p = from; p < to; p++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < vocab; j++) max = Math.Max(max, logits[p - 1, j]);
            double z = 0;
            for (int j = 0; j < vocab; j++) z += Math.Exp(logits[p - 1, j] - max);
            sum += logits[p - 1, tokens[p]] - max - Math.Log(z);
        }
        return sum;
    }

    [Fact]
    public void Continuation_log_likelihoods_agree_with_llama_cpp_logits()
    {
        int[] tokens = ReferenceLogits.PromptTokens;
        var logits = ReferenceLogits.Load("f32.full");
        using var session = ModelSession.Open(TestPaths.TinyLlamaFile("model-f32.gguf"));
        var model = session.AsLanguageModel();
        int split = 20;
        int[] context = tokens[..split];
        // Two continuations sharing one context (the cached prefix is reused), and one with a different context.
        var requests = new[]
        {
            new LogLikelihoodRequest(context, tokens[split..]),
            new LogLikelihoodRequest(context, tokens[split..(split + 5)]),
            new LogLikelihoodRequest(tokens[..45], tokens[45..]),
        };
        var answers = model.LogLikelihood(requests);
        var expected = new[]
        {
            Reference(logits, tokens, split, tokens.Length),
            Reference(logits, tokens, split, split + 5),
            Reference(logits, tokens, 45, tokens.Length),
        };
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(requests[i].Continuation.Length, answers[i].Tokens);
            Assert.True(Math.Abs(expected[i] - answers[i].SumLogProb) < 1e-2,
                $"request {i}: ours {answers[i].SumLogProb}, from llama.cpp's logits {expected[i]}");
        }
        Assert.True(expected[0] < -1); // a real sum over many tokens, not a trivially small number
    }
}
