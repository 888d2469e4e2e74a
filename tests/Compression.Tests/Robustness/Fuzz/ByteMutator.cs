// ByteMutator: seeded byte-level mutations — truncation at structural boundaries, bit flips, length fields set to extremes.
using System.Buffers.Binary;

namespace Compression.Tests.Robustness.Fuzz;

/// <summary>Byte mutations of a binary file; every mutation returns a new array and a label for the failure report.</summary>
internal sealed class ByteMutator(Random random)
{
    /// <summary>Values a corrupt 64-bit length or count field takes: zero, off by one, sign bit, all ones, and huge.</summary>
    public static readonly ulong[] Extremes64 =
        [0, 1, 7, 8, 0x7F, 0xFF, 0xFFFF, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, (ulong)uint.MaxValue + 1,
         100_000_000, 1UL << 40, long.MaxValue, (ulong)long.MaxValue + 1, ulong.MaxValue - 7, ulong.MaxValue];

    public static readonly uint[] Extremes32 = [0, 1, 2, 3, 4, 5, 12, 13, 30, 31, 39, 0x7F, 0xFF, 1000, 1 << 20, int.MaxValue, (uint)int.MaxValue + 1, uint.MaxValue];

    public (byte[] Bytes, string Label) Truncate(byte[] original, long at) =>
        (original.AsSpan(0, (int)Math.Clamp(at, 0, original.Length)).ToArray(), $"truncated at {at}");

    public (byte[] Bytes, string Label) FlipBits(byte[] original, int first, int length, int flips)
    {
        var b = (byte[])original.Clone();
        var where = new List<string>();
        for (int i = 0; i < flips; i++)
        {
            int at = first + random.Next(Math.Max(1, Math.Min(length, b.Length - first)));
            int bit = random.Next(8);
            b[at] ^= (byte)(1 << bit);
            where.Add($"{at}.{bit}");
        }
        return (b, $"bit flips at {string.Join(",", where)}");
    }

    public (byte[] Bytes, string Label) SetU64(byte[] original, int at, ulong value)
    {
        var b = (byte[])original.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), value);
        return (b, $"u64 at {at} = {value}");
    }

    public (byte[] Bytes, string Label) SetU32(byte[] original, int at, uint value)
    {
        var b = (byte[])original.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), value);
        return (b, $"u32 at {at} = {value}");
    }

    public (byte[] Bytes, string Label) Splice(byte[] original, int at, int delete, byte[] insert)
    {
        delete = Math.Min(delete, original.Length - at);
        var b = original[..at].Concat(insert).Concat(original[(at + delete)..]).ToArray();
        return (b, $"at {at} deleted {delete}, inserted {insert.Length} bytes");
    }

    public ulong Extreme64() => Extremes64[random.Next(Extremes64.Length)];
    public uint Extreme32() => Extremes32[random.Next(Extremes32.Length)];
}
