// CalibratedQuantizer: quantization with a calibrated method — block by block, each block calibrated on the outputs of
// the blocks already quantized, its linears observed through their input hooks; the model is then assembled once.
using Compression.Model;
using Compression.Quantization.Methods;
using static TorchSharp.torch;

namespace Compression.Quantization.Calibration;

/// <summary>
/// Runs a <see cref="QuantizationMethod"/> that needs data. For block i: the float block runs on the hidden states that the
/// already-quantized blocks 0..i−1 produced, its linears' <see cref="LinearLayer.InputObserver"/>s accumulate
/// <see cref="InputStatistics"/>; the method (optionally) rewrites the block's float weights and quantizes its linears;
/// the quantized block then runs to give block i+1 its inputs. Only one block's statistics exist at a time, so memory is
/// the model, the packed output, the calibration hidden states (N × L × H, in batches) and one block's (In × In) matrices.
/// The result is assembled by <see cref="ModelQuantizer"/> (the one assembly point), with the prepared layers handed over.
/// </summary>
public static class CalibratedQuantizer
{
    /// <summary>Tokens per calibration forward (sequences are batched up to this; a longer sequence runs alone).</summary>
    internal const int BatchTokens = 4096;

    /// <summary>
    /// A new model quantized under <paramref name="policy"/> with <paramref name="method"/>, calibrated on
    /// <paramref name="sequences"/> (token ids, all of one length). <paramref name="blockDone"/> is told after each block
    /// (tests use it to check memory stays flat). A method that needs no calibration is plain <see cref="ModelQuantizer.Apply(LlamaModel, QuantizationPolicy, IProgress{ValueTuple{int, int, string}}?)"/>.
    /// </summary>
    public static LlamaModel Apply(LlamaModel model, QuantizationPolicy policy, QuantizationMethod method, IReadOnlyList<int[]> sequences,
        IProgress<(int Done, int Total, string Name)>? progress = null, Action<int>? blockDone = null) =>
        Apply(model, policy, method, sequences, progress, blockDone, keepFloat: false);

    /// <summary>
    /// With <paramref name="keepFloat"/>, a model-transforming method's rewritten weights are kept as float layers instead of
    /// being quantized (the float model AWQ's scales turn it into: its logits must equal the original's).
    /// </summary>
    internal static LlamaModel Apply(LlamaModel model, QuantizationPolicy policy, QuantizationMethod method, IReadOnlyList<int[]> sequences,
        IProgress<(int Done, int Total, string Name)>? progress, Action<int>? blockDone, bool keepFloat)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!method.NeedsCalibration) return ModelQuantizer.Apply(model, policy, progress);
        var prepared = new Dictionary<string, LinearLayer>();
        var norms = new Dictionary<string, Tensor>();
        try
        {
            using (var run = new CalibrationRun(model, policy, method, sequences, keepFloat))
            {
                while (run.NextBlock < run.Blocks)
                {
                    int i = run.NextBlock;
                    progress?.Report((i, run.Blocks, $"calibrating block {i}"));
                    using var block = run.QuantizeNextBlock();
                    foreach (var (name, layer) in block.Layers) prepared[name] = layer;
                    foreach (var (name, norm) in block.Norms) norms[name] = norm;
                    block.Layers.Clear(); // handed over to prepared/norms
                    block.Norms.Clear();
                    blockDone?.Invoke(i);
                }
                if (run.QuantizeHead() is { } head) prepared["lm_head.weight"] = head;
            }
            return ModelQuantizer.Apply(model, policy, progress, prepared, norms);
        }
        finally
        {
            foreach (var layer in prepared.Values) layer.Dispose(); // what the assembly did not take
            foreach (var n in norms.Values) n.Dispose();
        }
    }

    /// <summary>Calibrates block <paramref name="i"/> on <paramref name="hidden"/>, quantizes it into <paramref name="prepared"/>/<paramref name="norms"/>, and advances <paramref name="hidden"/> through it.</summary>
    internal static void QuantizeBlock(LlamaModel model, int i, QuantizationMethod method, Func<string, TensorFormat> choice,
        List<Tensor> hidden, Tensor cos, Tensor sin, Dictionary<string, LinearLayer> prepared, Dictionary<string, Tensor> norms, bool keepFloat)
    {
        var layer = model.Layers[i];
        string prefix = $"model.layers.{i}.";
        var projections = layer.NamedProjections().ToDictionary(p => p.Name, p => p.Layer);
        using var inputs = Capture(layer, projections, hidden, cos, sin);
        using var weights = new BlockWeights();
        weights[BlockWeights.InputNorm] = ModelQuantizer.FloatCopy(layer.InputNorm.Weight);
        weights[BlockWeights.PostNorm] = ModelQuantizer.FloatCopy(layer.PostAttentionNorm.Weight);
        foreach (var (name, linear) in projections) weights[name] = ModelQuantizer.FloatWeight(linear);

        var blockFormat = choice(prefix + BlockWeights.Q + ".weight");
        if (method.TransformsModel && !blockFormat.IsFloat)
        {
            method.Transform(weights, inputs, blockFormat);
            norms[prefix + BlockWeights.InputNorm + ".weight"] = weights[BlockWeights.InputNorm].clone().DetachFromDisposeScope();
            norms[prefix + BlockWeights.PostNorm + ".weight"] = weights[BlockWeights.PostNorm].clone().DetachFromDisposeScope();
        }
        foreach (string name in projections.Keys)
        {
            var format = choice(prefix + name + ".weight");
            if (format.IsFloat && !method.TransformsModel) continue; // left to the policy's conversion
            prepared[prefix + name + ".weight"] = format.IsFloat || keepFloat
                ? new DenseLinear(weights[name].clone().DetachFromDisposeScope())
                : new PackedLinear(method.Quantize(weights[name], format, inputs.For(name)));
        }
        // The quantized block gives the next block its inputs.
        LinearLayer Borrow(string name) => prepared.TryGetValue(prefix + name + ".weight", out var made) ? Share(made) : Share(projections[name]);
        var parts = new List<IDisposable>();
        T Keep<T>(T part) where T : IDisposable { parts.Add(part); return part; }
        RmsNorm? ShareNorm(RmsNorm? norm) => norm is null ? null : Keep(new RmsNorm(norm.Weight.detach(), norm.Eps)); // Qwen3's q/k norms, unchanged
        try
        {
            var c = model.Config;
            var block = Keep(new LlamaDecoderLayer(i, Keep(new RmsNorm(weights[BlockWeights.InputNorm].detach(), layer.InputNorm.Eps)),
                Keep(new LlamaAttention(c, Keep(Borrow(BlockWeights.Q)), Keep(Borrow(BlockWeights.K)), Keep(Borrow(BlockWeights.V)), Keep(Borrow(BlockWeights.O)),
                    ShareNorm(layer.Attention.QueryNorm), ShareNorm(layer.Attention.KeyNorm))),
                Keep(new RmsNorm(weights[BlockWeights.PostNorm].detach(), layer.PostAttentionNorm.Eps)),
                Keep(new LlamaMlp(Keep(Borrow(BlockWeights.Gate)), Keep(Borrow(BlockWeights.Up)), Keep(Borrow(BlockWeights.Down))))));
            for (int s = 0; s < hidden.Count; s++)
            {
                var next = block.Forward(hidden[s], cos, sin, null, 0).DetachFromDisposeScope();
                hidden[s].Dispose();
                hidden[s] = next;
            }
        }
        finally
        {
            for (int p = parts.Count - 1; p >= 0; p--) parts[p].Dispose();
        }
    }

    /// <summary>Runs the float block on every calibration sequence with observers on the first linear of each distinct input.</summary>
    private static BlockInputs Capture(LlamaDecoderLayer layer, Dictionary<string, LinearLayer> projections, List<Tensor> hidden, Tensor cos, Tensor sin)
    {
        var inputs = new BlockInputs
        {
            Attention = new InputStatistics(projections[BlockWeights.Q].InFeatures),
            AttentionOutput = new InputStatistics(projections[BlockWeights.O].InFeatures),
            Mlp = new InputStatistics(projections[BlockWeights.Gate].InFeatures),
            Down = new InputStatistics(projections[BlockWeights.Down].InFeatures),
        };
        // q/k/v (and gate/up) read the same tensor: observing one of them is enough.
        var observed = new (string Name, InputStatistics Stats)[]
            { (BlockWeights.Q, inputs.Attention), (BlockWeights.O, inputs.AttentionOutput), (BlockWeights.Gate, inputs.Mlp), (BlockWeights.Down, inputs.Down) };
        try
        {
            foreach (var (name, stats) in observed) projections[name].InputObserver = stats.Add;
            foreach (var h in hidden)
            {
                using var scope = NewDisposeScope();
                layer.Forward(h, cos, sin, null, 0);
            }
            return inputs;
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
        finally
        {
            foreach (var (name, _) in observed) projections[name].InputObserver = null;
        }
    }

    /// <summary>A second layer over the same weight (the temporary block must not take the prepared layers' ownership).</summary>
    private static LinearLayer Share(LinearLayer layer) => layer switch
    {
        PackedLinear p => PackedLinear.Share(p.Weight),
        DenseLinear d => new DenseLinear(d.Weight.detach()),
        _ => throw new NotSupportedException($"cannot calibrate through a {layer.GetType().Name} layer"),
    };
}
