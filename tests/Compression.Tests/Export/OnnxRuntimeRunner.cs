// OnnxRuntimeRunner: runs an exported model folder in ONNX Runtime (plain, with explicit KV inputs) and in ONNX Runtime GenAI.
using Compression.Model;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compression.Tests.Export;

internal static class OnnxRuntimeRunner
{
    /// <summary>Full prefill of <paramref name="tokens"/> (batch 1, empty past) in plain ONNX Runtime: logits [T, V].</summary>
    public static float[,] Prefill(string dir, LlamaConfig c, int[] tokens)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2 };
        using var session = new InferenceSession(Path.Combine(dir, "model.onnx"), options);
        int t = tokens.Length;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(tokens.Select(x => (long)x).ToArray(), [1, t])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, t).ToArray(), [1, t])),
        };
        for (int i = 0; i < c.NumLayers; i++)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor($"past_key_values.{i}.key", new DenseTensor<float>(Array.Empty<float>(), [1, c.NumKeyValueHeads, 0, c.HeadDim])));
            inputs.Add(NamedOnnxValue.CreateFromTensor($"past_key_values.{i}.value", new DenseTensor<float>(Array.Empty<float>(), [1, c.NumKeyValueHeads, 0, c.HeadDim])));
        }
        using var results = session.Run(inputs, ["logits"]);
        var logits = results.First().AsTensor<float>();
        var dims = logits.Dimensions.ToArray();
        Assert.Equal([1, t, c.VocabSize], dims);
        var result = new float[t, c.VocabSize];
        for (int i = 0; i < t; i++)
            for (int v = 0; v < c.VocabSize; v++) result[i, v] = logits[0, i, v];
        return result;
    }

    /// <summary>
    /// Runs <paramref name="tokens"/> through GenAI: the first <paramref name="split"/> as one prompt, then one token at
    /// a time through its KV cache. Returns the logits of every position [T, V] as the model produced them.
    /// </summary>
    public static float[,] GenAiIncremental(string dir, int vocab, int[] tokens, int split)
    {
        using var model = new Microsoft.ML.OnnxRuntimeGenAI.Model(dir);
        using var p = new Microsoft.ML.OnnxRuntimeGenAI.GeneratorParams(model);
        p.SetSearchOption("max_length", tokens.Length + 8);
        using var generator = new Microsoft.ML.OnnxRuntimeGenAI.Generator(model, p);
        var result = new float[tokens.Length, vocab];
        int done = 0;
        void Take(int count)
        {
            using var logits = generator.GetOutput("logits");
            var shape = logits.Shape();
            var data = logits.GetData<float>();
            Assert.Equal(vocab, (int)shape[^1]);
            int rows = (int)(logits.NumElements() / vocab);
            Assert.Equal(count, rows);
            for (int i = 0; i < rows; i++)
                for (int v = 0; v < vocab; v++) result[done + i, v] = data[i * vocab + v];
            done += rows;
        }
        generator.AppendTokens(tokens.AsSpan(0, split));
        Take(split);
        for (int i = split; i < tokens.Length; i++)
        {
            generator.AppendTokens(tokens.AsSpan(i, 1));
            Take(1);
        }
        return result;
    }
}
