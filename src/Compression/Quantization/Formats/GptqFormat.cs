// gptq (4/8-bit, group 32/64/128): GPTQ checkpoints' arithmetic — fp16 scale and integer zero point per group — row-major.
using System.Runtime.InteropServices;
using Compression.Kernels;

namespace Compression.Quantization.Formats;

/// <summary>
/// What a GPTQ checkpoint's linear holds, re-laid row by row so the workbench's packed layers can run it:
/// per group [fp16 scale, uint8 zero, codes], codes 4-bit (element j in byte j/2, even j in the low nibble) or
/// 8-bit; w = scale·(q − zero). Quantizing uses <see cref="GptqRtn"/> (symmetric unless asked), so a row quantized
/// here and one read from a checkpoint written by the exporter are the same bytes; its <see cref="Codec"/> lets the
/// calibrated GPTQ method produce the same grid (<c>compress export --to hf-gptq --method gptq</c>). Not in the
/// registry's table: it is the form GPTQ checkpoints load in (<c>compress eval --model GPTQ_DIR</c>), not a sweep candidate.
/// </summary>
public sealed class GptqFormat(int bits, int groupSize, bool symmetric = true) : TensorFormat
{
    public int Bits { get; } = bits is 4 or 8 ? bits : throw new ArgumentException($"gptq: {bits} bits is not 4 or 8");
    /// <summary>32, 64 or 128 — or a whole row (a GPTQ checkpoint's group_size −1), any positive multiple of 32.</summary>
    public int GroupSize { get; } = groupSize > 0 && groupSize % 32 == 0 ? groupSize : throw new ArgumentException($"gptq: group {groupSize} is not a positive multiple of 32");

    /// <summary>How <see cref="QuantizeRowReference"/> and the codec fit groups (zero = 2^(bits−1), or fitted); dequantizing is the same.</summary>
    public bool Symmetric { get; } = symmetric;

    public override string Name => $"gptq{Bits}_g{GroupSize}{(Symmetric ? "" : "_asym")}";
    public override int BlockSize => GroupSize;
    public override int BytesPerBlock => 3 + GroupSize * Bits / 8;
    public override int NominalBits => Bits;
    public override string Description => $"GPTQ {Bits}-bit, group {GroupSize}, fp16 scale and integer zero ({Bits + 24.0 / GroupSize:F3} bpw)";

    /// <summary>The group rule as fit + code, for calibrated methods.</summary>
    public override Methods.Codecs.BlockCodec Codec => _codec ??= new Methods.Codecs.GptqCodec(this);
    private Methods.Codecs.GptqCodec? _codec;

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int groups = src.Length / GroupSize;
        var codes = new byte[src.Length];
        var scales = new Half[groups];
        var zeros = new byte[groups];
        GptqRtn.QuantizeRow(src, Bits, GroupSize, Symmetric, codes, scales, zeros);
        for (int g = 0; g < groups; g++) Pack(codes.AsSpan(g * GroupSize, GroupSize), scales[g], zeros[g], dst.Slice(g * BytesPerBlock, BytesPerBlock));
    }

    /// <summary>Writes one block: scale, zero, codes.</summary>
    public void Pack(ReadOnlySpan<byte> codes, Half scale, byte zero, Span<byte> block)
    {
        MemoryMarshal.Write(block, scale);
        block[2] = zero;
        var q = block[3..];
        if (Bits == 8) { codes.CopyTo(q); return; }
        q[..(GroupSize / 2)].Clear();
        for (int j = 0; j < GroupSize; j++) q[j >> 1] |= (byte)((j & 1) == 0 ? codes[j] : codes[j] << 4);
    }

    /// <summary>Reads one block back: its codes, scale and zero (the inverse of <see cref="Pack"/>).</summary>
    public void Unpack(ReadOnlySpan<byte> block, Span<byte> codes, out Half scale, out byte zero)
    {
        scale = MemoryMarshal.Read<Half>(block);
        zero = block[2];
        var q = block[3..];
        if (Bits == 8) { q[..GroupSize].CopyTo(codes); return; }
        for (int j = 0; j < GroupSize; j++) codes[j] = (byte)((j & 1) == 0 ? q[j >> 1] & 0x0f : q[j >> 1] >> 4);
    }

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Span<byte> codes = stackalloc byte[GroupSize];
        for (int g = 0; g < dst.Length / GroupSize; g++)
        {
            Unpack(src.Slice(g * BytesPerBlock, BytesPerBlock), codes, out var s, out byte z);
            for (int j = 0; j < GroupSize; j++) dst[g * GroupSize + j] = GptqRtn.Dequantize(codes[j], s, z);
        }
    }

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
