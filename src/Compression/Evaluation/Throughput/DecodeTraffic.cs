// DecodeTraffic: weight bytes one decoded token reads, and the roofline it implies (tokens/s ≤ bandwidth ÷ bytes).
using Compression.Checkpoints.Gguf;
using Compression.Model;

namespace Compression.Evaluation.Throughput;

/// <summary>
/// Each decoded token reads every matmul weight once (every layer's projections and the LM head), the norms, and one
/// row of the token embedding. KV-cache reads are left out: at short contexts they are small next to the weights.
/// </summary>
public static class DecodeTraffic
{
    /// <summary>Bytes a token reads from a model as held in memory (packed layers count their packed bytes).</summary>
    public static long WeightBytesPerToken(LlamaModel model)
    {
        long linear = model.LinearLayers().Sum(l => l.Layer.WeightBytes); // a tied head counts the embedding it reads
        long norms = model.WeightBytes - model.EmbedTokens.WeightBytes - model.LinearLayers()
            .Where(l => !(model.Config.TieWordEmbeddings && ReferenceEquals(l.Layer, model.LmHead))).Sum(l => l.Layer.WeightBytes);
        return linear + norms + model.EmbedTokens.WeightBytes / Math.Max(1, model.Config.VocabSize);
    }

    /// <summary>Bytes a token reads from a GGUF file's tensors, as llama.cpp runs it (rope_freqs and norms included).</summary>
    public static long WeightBytesPerToken(string ggufPath)
    {
        using var file = GgufFile.OpenMetadata(ggufPath); // llama.cpp's own types (k-quants) are sized too
        return WeightBytesPerToken(file.Tensors.Select(t => (t.Name, t.ByteLength, t.Dimensions.Length > 1 ? t.Dimensions[1] : 1))
            .Concat(file.ForeignTensors.Select(t => (t.Name, t.ByteLength, t.Dimensions.Length > 1 ? t.Dimensions[1] : 1L))));
    }

    /// <summary>From (GGUF name, bytes, rows) of every tensor: all of each but one row of token_embd (all of it when there is no output.weight).</summary>
    public static long WeightBytesPerToken(IEnumerable<(string Name, long Bytes, long Rows)> tensors)
    {
        var list = tensors.ToList();
        bool tied = !list.Any(t => t.Name == "output.weight");
        return list.Sum(t => t.Name == "token_embd.weight" && !tied ? t.Bytes / Math.Max(1, t.Rows) : t.Bytes);
    }

    /// <summary>Decode tokens/s the read bandwidth allows.</summary>
    public static double RooflineTokensPerSecond(double bandwidthBytesPerSecond, long bytesPerToken) =>
        bandwidthBytesPerSecond / Math.Max(1, bytesPerToken);
}
