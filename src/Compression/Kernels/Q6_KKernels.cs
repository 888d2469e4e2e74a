// Q6_KKernels: decode GEMV for q6_k — each super-block dequantized into registers/stack and dotted with float x.
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>
/// Float-activation GEMV for Q6_K: dequantize one 256-weight super-block at a time into a stack buffer
/// (1 KiB, stays in L1) and FMA it with x. Q6_K is used only for the LM head here, so this simple
/// form is the starting point; an integer Q8_K kernel would be the tuning step.
/// </summary>
public static unsafe class Q6_KKernels
{
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: false, 0, &Dot);

    internal static float Dot(byte* row, GemvContext* c)
    {
        float* w = stackalloc float[256];
        float sum = 0;
        for (int b = 0; b < c->Cols / 256; b++)
        {
            Q6_KFormat.DequantizeBlock((BlockQ6_K*)(row + b * BlockQ6_K.Size), w);
            sum += TiledGemm.Dot(w, c->X + b * 256, 256);
        }
        return sum;
    }
}
