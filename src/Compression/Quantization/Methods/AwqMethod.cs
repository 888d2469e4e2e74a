// AwqMethod: activation-aware weight quantization (Lin et al. 2023) — per-input-channel scales s = mean|x|^α, α searched
// on a grid, folded into the preceding RMSNorm (q/k/v, gate/up), v_proj → o_proj and up_proj → down_proj; then RTN.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Quantization.Methods;

/// <summary>
/// AWQ: scaling input channel j of a weight by sⱼ (and dividing the producer of that channel by sⱼ) leaves the float
/// model unchanged but gives salient channels (large activations) finer steps. For each input the exponent α is chosen
/// on <see cref="Grid"/> to minimise the mean squared output error of the linears reading it, computed exactly from the
/// input second moments H: Σ_rows ΔwᵀHΔw with Δw = w − Q(w·s)/s. The stored model is a plain Llama (scales live in
/// the norm weights and projection rows) quantized round-to-nearest, so its files run anywhere the format does.
/// v_proj → o_proj is folded only when o_proj's input is v_proj's output channel for channel (no grouped-query sharing).
/// </summary>
public sealed class AwqMethod(IReadOnlyList<double>? grid = null) : QuantizationMethod
{
    public static readonly AwqMethod Instance = new();

    /// <summary>Exponents tried (default 0, 0.05, …, 1; α = 0 is plain RTN).</summary>
    public IReadOnlyList<double> Grid { get; } = grid ?? Enumerable.Range(0, 21).Select(i => i / 20.0).ToList();

    public override string Name => "awq";
    public override string Description => "AWQ: activation-aware channel scales folded into norms and projections, then RTN";
    public override bool TransformsModel => true;
    public override bool Supports(TensorFormat format) => format.CanQuantize && !format.IsFloat;

    /// <summary>After <see cref="Transform"/>, the weights are quantized round-to-nearest.</summary>
    public override PackedWeight Quantize(Tensor weight, TensorFormat format, InputStatistics? inputs) => PackedWeight.Quantize(weight, format);

    public override void Transform(BlockWeights block, BlockInputs inputs, TensorFormat format)
    {
        Fold(block, BlockWeights.InputNorm, isNorm: true, [BlockWeights.Q, BlockWeights.K, BlockWeights.V], inputs.Attention, format);
        if (block[BlockWeights.O].shape[1] == block[BlockWeights.V].shape[0])
            Fold(block, BlockWeights.V, isNorm: false, [BlockWeights.O], inputs.AttentionOutput, format);
        Fold(block, BlockWeights.PostNorm, isNorm: true, [BlockWeights.Gate, BlockWeights.Up], inputs.Mlp, format);
        Fold(block, BlockWeights.Up, isNorm: false, [BlockWeights.Down], inputs.Down, format);
    }

    /// <summary>Searches α for the linears <paramref name="consumers"/> and folds the scales into them and <paramref name="producer"/>.</summary>
    private void Fold(BlockWeights block, string producer, bool isNorm, string[] consumers, InputStatistics stats, TensorFormat format)
    {
        if (consumers.Any(c => !format.Supports(block[c].shape[1]))) return;
        using var scope = NewDisposeScope();
        var h = tensor(stats.SecondMoments(), [stats.Features, stats.Features]).to(ScalarType.Float32); // (In, In)
        var meanAbs = tensor(stats.MeanAbs()).AtLeast(1e-8f);                                       // (In)
        Tensor? best = null;
        double bestErr = double.PositiveInfinity;
        foreach (double alpha in Grid)
        {
            var s = Scales(meanAbs, alpha);
            double err = consumers.Sum(c => OutputError(block[c], s, h, format));
            if (err < bestErr) (bestErr, best) = (err, s);
        }
        var sBest = best!;
        foreach (string c in consumers) block[c] = (block[c] * sBest).MoveToOuterDisposeScope(); // columns × s
        block[producer] = (isNorm ? block[producer] / sBest : block[producer] / sBest.unsqueeze(1)).MoveToOuterDisposeScope(); // norm / s, or rows / s
    }

    /// <summary>s = m^α normalised so that max·min = 1 (AWQ's normalisation); α = 0 gives all ones.</summary>
    internal static Tensor Scales(Tensor meanAbs, double alpha)
    {
        var s = meanAbs.Power(alpha).AtLeast(1e-4f);
        return s / (s.max() * s.min()).sqrt();
    }

    /// <summary>Σ over rows of ΔwᵀHΔw, Δw = w − Q(w·s)/s: the summed mean squared output error of the layer.</summary>
    private static double OutputError(Tensor w, Tensor s, Tensor h, TensorFormat format)
    {
        using var scope = NewDisposeScope();
        using var packed = new PackedLinearHandle(PackedWeight.Quantize((w * s).contiguous(), format));
        var dq = ModelQuantizer.Dequantize(packed.Weight) / s;
        var delta = w - dq;                                                    // (Out, In)
        return (delta.matmul(h) * delta).sum().item<float>();
    }

    /// <summary>Releases a packed weight made only to measure its error.</summary>
    private sealed class PackedLinearHandle(PackedWeight weight) : IDisposable
    {
        public PackedWeight Weight => weight;
        public void Dispose() => weight.Release();
    }
}
