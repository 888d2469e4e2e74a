// int8: symmetric per-output-channel absmax — each row is one fp32 scale followed by cols int8 values.
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Kernels;

namespace Compression.Quantization.Formats;

/// <summary>
/// Weight-only int8 as in gpt-fast/torchao: per output row <c>s = max(amax/127, ε)</c>,
/// <c>q = clamp(round_half_even(x/s), −127, 127)</c>, w = q·s. Row layout: fp32 s, then int8 q[cols]
/// (8 + 32/cols bits per weight). The ε floor keeps an all-zero row finite.
/// </summary>
public sealed unsafe class Int8Format : TensorFormat
{
    public static readonly Int8Format Instance = new();
    /// <summary>Smallest scale (float32 machine epsilon, as gpt-fast clamps its scales).</summary>
    public const float ScaleFloor = 1.1920929e-07f;

    public override string Name => "int8";
    public override int BlockSize => 1;
    public override int BytesPerBlock => 1;
    public override int NominalBits => 8;
    public override string Description => "int8 per output channel, symmetric absmax, fp32 scale (8 + 32/cols bpw)";

    public override long RowBytes(long cols)
    {
        if (cols <= 0) throw new ArgumentException($"{Name}: row length {cols} must be positive");
        return cols + sizeof(float);
    }

    public override bool Supports(long cols) => cols > 0;

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        float amax = 0;
        foreach (float v in src) amax = MathF.Max(amax, MathF.Abs(v));
        float s = MathF.Max(amax / 127f, ScaleFloor);
        MemoryMarshal.Write(dst, s);
        var q = MemoryMarshal.Cast<byte, sbyte>(dst[sizeof(float)..]);
        for (int i = 0; i < src.Length; i++)
            q[i] = (sbyte)Math.Clamp(MathF.Round(src[i] / s, MidpointRounding.ToEven), -127f, 127f);
    }

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        float s = MemoryMarshal.Read<float>(src);
        var q = MemoryMarshal.Cast<byte, sbyte>(src[sizeof(float)..]);
        for (int i = 0; i < dst.Length; i++) dst[i] = q[i] * s;
    }

    public override void QuantizeRow(ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (!Avx2.IsSupported) { QuantizeRowReference(src, dst); return; }
        CheckRow(src.Length, dst.Length);
        fixed (float* px = src)
        fixed (byte* py = dst)
        {
            int n = src.Length, i = 0;
            var abs = Vector256.Create(0x7fffffff).AsSingle();
            var m = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8) m = Avx.Max(m, Avx.And(Avx.LoadVector256(px + i), abs));
            float amax = IntDot.HMax(m);
            for (; i < n; i++) amax = MathF.Max(amax, MathF.Abs(px[i]));
            float s = MathF.Max(amax / 127f, ScaleFloor);
            *(float*)py = s;
            sbyte* q = (sbyte*)(py + sizeof(float));
            var vs = Vector256.Create(s);
            var lo = Vector256.Create(-127f);
            var hi = Vector256.Create(127f);
            for (i = 0; i + 8 <= n; i += 8)
            {
                // Same IEEE divide and round-half-even as the reference, clamped before the narrowing.
                var r = Avx.Min(Avx.Max(Avx.RoundToNearestInteger(Avx.Divide(Avx.LoadVector256(px + i), vs)), lo), hi);
                var v = Avx.ConvertToVector256Int32(r);
                var p16 = Sse2.PackSignedSaturate(v.GetLower(), v.GetUpper());
                Sse2.StoreScalar((long*)(q + i), Sse2.PackSignedSaturate(p16, p16).AsInt64());
            }
            for (; i < n; i++) q[i] = (sbyte)Math.Clamp(MathF.Round(px[i] / s, MidpointRounding.ToEven), -127f, 127f);
        }
    }

    public override void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!Avx2.IsSupported) { DequantizeRowReference(src, dst); return; }
        CheckRow(dst.Length, src.Length);
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            float s = *(float*)ps;
            sbyte* q = (sbyte*)(ps + sizeof(float));
            var vs = Vector256.Create(s);
            int i = 0, n = dst.Length;
            for (; i + 8 <= n; i += 8) Avx.Store(pd + i, Avx.Multiply(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(q + i)), vs));
            for (; i < n; i++) pd[i] = q[i] * s;
        }
    }

    private void CheckRow(int cols, int bytes)
    {
        if (cols <= 0 || bytes < RowBytes(cols)) throw new ArgumentException($"{Name}: row of {cols} values does not fit {bytes} bytes");
    }

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        // The integer kernel pairs weights with Q8 activation blocks of 32; other lengths take the float path.
        if (cols % ActivationQ8.Block == 0) Int8Kernels.Gemv(this, packed, rows, cols, x, y);
        else base.Gemv(packed, rows, cols, x, y);
    }

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
