// GptqPacking: the int32 packing of GPTQ checkpoints (AutoGPTQ "gptq" checkpoint format, as transformers/vLLM/TGI read it).
namespace Compression.Export.HfGptq;

/// <summary>
/// For a linear of N outputs × K inputs, bits b, group G (p = 32/b values per int32, packed from the low bits up):
/// <list type="bullet">
/// <item><c>qweight</c> int32 [K/p, N]: qweight[i, n] = Σ_j q[n, i·p + j] ≪ (b·j) — packed along the input dimension;</item>
/// <item><c>qzeros</c> int32 [K/G, N/p]: qzeros[g, c] = Σ_j (zero[g, c·p + j] − 1) ≪ (b·j) — along the output dimension,
/// each stored one below its value (readers add 1 back);</item>
/// <item><c>scales</c> fp16 [K/G, N]; <c>g_idx</c> int32 [K] = k / G (no activation reordering).</item>
/// </list>
/// Codes here are row-major per output feature (q[n, k]), zeros and scales [N, K/G].
/// </summary>
public static class GptqPacking
{
    public static int[] PackWeight(ReadOnlySpan<byte> q, int n, int k, int bits)
    {
        int p = 32 / bits;
        CheckDivides(k, p, "input features");
        var packed = new int[(long)k / p * n];
        for (int row = 0; row < n; row++)
            for (int i = 0; i < k / p; i++)
            {
                uint word = 0;
                for (int j = 0; j < p; j++) word |= (uint)q[row * k + i * p + j] << (bits * j);
                packed[(long)i * n + row] = (int)word;
            }
        return packed;
    }

    public static byte[] UnpackWeight(ReadOnlySpan<int> packed, int n, int k, int bits)
    {
        int p = 32 / bits, mask = (1 << bits) - 1;
        var q = new byte[(long)n * k];
        for (int i = 0; i < k / p; i++)
            for (int row = 0; row < n; row++)
            {
                uint word = (uint)packed[i * n + row];
                for (int j = 0; j < p; j++) q[row * k + i * p + j] = (byte)((word >> (bits * j)) & mask);
            }
        return q;
    }

    /// <summary>zeros [N, groups] → qzeros [groups, N/p], each stored as zero − 1.</summary>
    public static int[] PackZeros(ReadOnlySpan<byte> zeros, int n, int groups, int bits)
    {
        int p = 32 / bits;
        CheckDivides(n, p, "output features");
        var packed = new int[(long)groups * (n / p)];
        for (int g = 0; g < groups; g++)
            for (int c = 0; c < n / p; c++)
            {
                uint word = 0;
                for (int j = 0; j < p; j++)
                {
                    int z = zeros[(c * p + j) * groups + g] - 1;
                    if (z < 0 || z >= 1 << bits) throw new ArgumentException($"zero point {z + 1} cannot be stored in GPTQ's {bits}-bit zero − 1");
                    word |= (uint)z << (bits * j);
                }
                packed[g * (n / p) + c] = (int)word;
            }
        return packed;
    }

    public static byte[] UnpackZeros(ReadOnlySpan<int> packed, int n, int groups, int bits)
    {
        int p = 32 / bits, mask = (1 << bits) - 1;
        var zeros = new byte[(long)n * groups];
        for (int g = 0; g < groups; g++)
            for (int c = 0; c < n / p; c++)
            {
                uint word = (uint)packed[g * (n / p) + c];
                for (int j = 0; j < p; j++) zeros[(c * p + j) * groups + g] = (byte)(((word >> (bits * j)) & mask) + 1);
            }
        return zeros;
    }

    /// <summary>scales [N, groups] → [groups, N].</summary>
    public static Half[] TransposeScales(ReadOnlySpan<Half> scales, int n, int groups)
    {
        var t = new Half[(long)n * groups];
        for (int row = 0; row < n; row++)
            for (int g = 0; g < groups; g++) t[g * n + row] = scales[row * groups + g];
        return t;
    }

    public static int[] GroupIndex(int k, int group) => Enumerable.Range(0, k).Select(i => i / group).ToArray();

    private static void CheckDivides(int size, int p, string what)
    {
        if (size % p != 0) throw new ArgumentException($"GPTQ packs {p} values per int32: {what} ({size}) must be a multiple of {p}");
    }
}
