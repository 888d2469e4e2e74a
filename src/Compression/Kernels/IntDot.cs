// IntDot: AVX2 building blocks for 8-bit integer dot products (llama.cpp's mul_sum_i8_pairs and friends).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

internal static class IntDot
{
    private static readonly Vector256<short> Ones16 = Vector256.Create((short)1);

    /// <summary>Σ w·x over pairs of signed bytes, as 8 int32 sums converted to float.
    /// maddubs needs one unsigned operand, so |w| is paired with x carrying w's sign.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MulSumI8(Vector256<sbyte> w, Vector256<sbyte> x)
    {
        var aw = Avx2.Sign(w, w).AsByte();
        var sx = Avx2.Sign(x, w);
        return Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(aw, sx), Ones16));
    }

    /// <summary>Σ w·x for unsigned bytes w (≤ 127 so the int16 pair sums cannot saturate) and signed x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MulSumU8I8(Vector256<byte> w, Vector256<sbyte> x) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w, x), Ones16);

    /// <summary>32 nibbles from 16 bytes: low nibbles in the lower 128-bit lane, high nibbles in the upper.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<byte> Nibbles32(byte* p)
    {
        var t = Sse2.LoadVector128(p);
        var v = Vector256.Create(t, Sse2.ShiftRightLogical(t.AsUInt16(), 4).AsByte());
        return Avx2.And(v, Vector256.Create((byte)0x0f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HSum(Vector256<float> v)
    {
        var s = Sse.Add(v.GetLower(), v.GetUpper());
        s = Sse.Add(s, Sse.MoveHighToLow(s, s));
        s = Sse.AddScalar(s, Sse.Shuffle(s, s, 1));
        return s.ToScalar();
    }

    /// <summary>Largest lane (lanes are non-negative magnitudes here, so no NaN/sign subtleties).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HMax(Vector256<float> v)
    {
        var s = Sse.Max(v.GetLower(), v.GetUpper());
        s = Sse.Max(s, Sse.MoveHighToLow(s, s));
        s = Sse.MaxScalar(s, Sse.Shuffle(s, s, 1));
        return s.ToScalar();
    }
}
