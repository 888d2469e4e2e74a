// IntDot: AVX2 building blocks for 8-bit integer dot products (llama.cpp's mul_sum_i8_pairs and friends).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

/// <remarks>
/// The 512-bit forms hold two 32-byte groups side by side and give, lane for lane, the same int32
/// sums as two 256-bit calls (lower half = first group); kernels then accumulate the lower half
/// exactly as their AVX2 path accumulates the even group and the upper half as the odd group, which
/// is what makes the AVX2 and AVX-512 results bit-identical.
/// </remarks>
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

    /// <summary><see cref="Nibbles32"/> without a cross-lane shuffle: the 16 bytes broadcast to both halves by the load
    /// itself, the upper half shifted right by 4 (a dword shift: each byte's high nibble lands in its low nibble, and the
    /// mask drops what came from the next byte).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<byte> Nibbles32Broadcast(byte* p)
    {
        var t = Avx2.BroadcastVector128ToVector256(p);
        var shifted = Avx2.ShiftRightLogicalVariable(t.AsUInt32(), Vector256.Create(0u, 0, 0, 0, 4, 4, 4, 4));
        return Avx2.And(shifted.AsByte(), Vector256.Create((byte)0x0f));
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

    /// <summary>AVX-512 <see cref="MulSumI8(Vector256{sbyte}, Vector256{sbyte})"/>: 16 int32 sums of 4 products, as floats.
    /// AVX-512 has no byte sign instruction; a compare-and-blend gives x with w's sign (x ≠ −128, so −x is exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MulSumI8(Vector512<sbyte> w, Vector512<sbyte> x)
    {
        var aw = Avx512BW.Abs(w);
        var sx = Vector512.ConditionalSelect(Vector512.LessThan(w, Vector512<sbyte>.Zero), Vector512<sbyte>.Zero - x, x);
        return Avx512F.ConvertToVector512Single(MulSumU8I8(aw, sx));
    }

    /// <summary><see cref="MulSumI8(Vector512{sbyte}, Vector512{sbyte})"/> with −x read from the precomputed negated codes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> MulSumI8(Vector512<sbyte> w, sbyte* x, sbyte* negX)
    {
        var sx = Vector512.ConditionalSelect(Vector512.LessThan(w, Vector512<sbyte>.Zero), Vector512.Load(negX), Vector512.Load(x));
        return Avx512F.ConvertToVector512Single(MulSumU8I8(Avx512BW.Abs(w), sx));
    }

    /// <summary>AVX-512 <see cref="MulSumU8I8(Vector256{byte}, Vector256{sbyte})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> MulSumU8I8(Vector512<byte> w, Vector512<sbyte> x) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w, x), Vector512.Create((short)1));

    /// <summary>Sum of the 16 lanes in the AVX2 order: (lower + upper), then <see cref="HSum(Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HSum(Vector512<float> v) => HSum(Avx.Add(v.GetLower(), v.GetUpper()));

    /// <summary>Two 16-byte groups of nibbles as 64 bytes: (low nibbles of a, high of a, low of b, high of b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<byte> Nibbles64(byte* a, byte* b)
    {
        var ta = Sse2.LoadVector128(a);
        var tb = Sse2.LoadVector128(b);
        var v = Vector512.Create(Vector256.Create(ta, ta), Vector256.Create(tb, tb)).AsUInt16();
        var shifted = Avx512BW.ShiftRightLogicalVariable(v, Vector512.Create((ushort)0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4,
            0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4));
        return Avx512F.And(shifted.AsByte(), Vector512.Create((byte)0x0f));
    }
}

/// <summary>
/// Whether a kernel takes its int32 lanes from AVX-VNNI's <c>vpdpbusd</c> or from maddubs and madd (the same sums): a type
/// argument, so each kernel is compiled with the choice fixed. (Passed as a bool, the JIT declined to inline int4's
/// four-row kernel into its two entry points and left the choice as a branch in the loop.)
/// </summary>
internal interface IVnniChoice { static abstract bool On { get; } }
internal struct WithVnni : IVnniChoice { public static bool On => true; }
internal struct NoVnni : IVnniChoice { public static bool On => false; }
