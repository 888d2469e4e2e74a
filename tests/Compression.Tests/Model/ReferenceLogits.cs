// ReferenceLogits: the fixture's reference-logits.safetensors (numpy and llama.cpp outputs) and reference.json.
using System.Buffers.Binary;
using System.Text.Json;

namespace Compression.Tests.Model;

internal static class ReferenceLogits
{
    /// <summary>Tensor <paramref name="name"/> ("numpy.full", "f32.full", ...) as [tokens, vocab].</summary>
    public static float[,] Load(string name)
    {
        byte[] file = File.ReadAllBytes(TestPaths.TinyLlamaFile("reference-logits.safetensors"));
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file);
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        var entry = header.RootElement.GetProperty(name);
        Assert.Equal("F32", entry.GetProperty("dtype").GetString());
        var shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        long begin = 8 + headerLength + entry.GetProperty("data_offsets")[0].GetInt64();
        var result = new float[shape[0], shape[1]];
        Buffer.BlockCopy(file, (int)begin, result, 0, shape[0] * shape[1] * 4);
        return result;
    }

    public static JsonElement Json
    {
        get
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.TinyLlamaFile("reference.json")));
            return doc.RootElement.Clone();
        }
    }

    public static int[] PromptTokens => Json.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    public static int IncrementalSplit => Json.GetProperty("incremental_split").GetInt32();

    public static double MaxAbsDiff(float[,] a, float[,] b)
    {
        Assert.Equal(a.GetLength(0), b.GetLength(0));
        Assert.Equal(a.GetLength(1), b.GetLength(1));
        double max = 0;
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++)
                max = Math.Max(max, Math.Abs(a[i, j] - b[i, j]));
        return max;
    }

    public static int ArgMax(float[,] a, int row)
    {
        int best = 0;
        for (int j = 1; j < a.GetLength(1); j++) if (a[row, j] > a[row, best]) best = j;
        return best;
    }
}
