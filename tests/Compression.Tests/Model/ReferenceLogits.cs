// ReferenceLogits: the fixture's reference-logits.safetensors (numpy and llama.cpp outputs) and reference.json.
using System.Text.Json;
using Compression.Checkpoints.Safetensors;

namespace Compression.Tests.Model;

internal static class ReferenceLogits
{
    /// <summary>Tensor <paramref name="name"/> ("numpy.full", "f32.full", ...) as [tokens, vocab].</summary>
    public static float[,] Load(string name)
    {
        using var file = SafetensorsFile.Open(TestPaths.TinyLlamaFile("reference-logits.safetensors"));
        var t = file.Tensors[name];
        var result = new float[t.Shape[0], t.Shape[1]];
        t.ReadRows(0, (int)t.Rows, System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref result[0, 0], result.Length));
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
