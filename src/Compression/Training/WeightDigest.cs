// WeightDigest: one SHA-256 over a model's named weights — names, dtypes, shapes and raw bytes — for bit-exactness checks.
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace Compression.Training;

public static class WeightDigest
{
    /// <summary>
    /// Lower-case hex SHA-256 of the weights in name order: for each, its name, dtype and shape as text, then its
    /// elements' bytes (contiguous, little-endian as in memory). Two models hash equal only if every bit is equal;
    /// unlike a file hash it does not depend on how a format lays the tensors out.
    /// </summary>
    public static string Of(IEnumerable<(string Name, Tensor Tensor)> weights)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in weights.OrderBy(w => w.Name, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"{name}\0{tensor.dtype}\0{string.Join('x', tensor.shape)}\0"));
            using var c = tensor.detach().contiguous().cpu();
            if (c.dtype != ScalarType.Float32) throw new NotSupportedException($"{name}: weight digest reads float32 tensors, got {c.dtype}");
            sha.AppendData(MemoryMarshal.AsBytes(c.data<float>().ToArray().AsSpan()));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
