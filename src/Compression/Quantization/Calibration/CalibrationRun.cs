// CalibrationRun: layer-by-layer calibration as steps — one block at a time on the outputs of the blocks already
// quantized, so a caller can keep every block (the in-memory model) or stream each one out and drop it (a GGUF).
using Compression.Model;
using Compression.Quantization.Methods;
using static TorchSharp.torch;

namespace Compression.Quantization.Calibration;

/// <summary>One block's output of a calibrated method: its layers and rewritten norms, by HF name. Owns them.</summary>
public sealed class CalibratedBlock(int index, Dictionary<string, LinearLayer> layers, Dictionary<string, Tensor> norms) : IDisposable
{
    public int Index { get; } = index;
    /// <summary>The block's linears the method made (a projection the policy leaves float and the method does not touch is absent).</summary>
    public Dictionary<string, LinearLayer> Layers { get; } = layers;
    /// <summary>Norm weights the method rewrote (AWQ's folded scales); empty for the others.</summary>
    public Dictionary<string, Tensor> Norms { get; } = norms;

    public void Dispose()
    {
        foreach (var l in Layers.Values) l.Dispose();
        foreach (var n in Norms.Values) n.Dispose();
        Layers.Clear();
        Norms.Clear();
    }
}

/// <summary>
/// The state of a calibration between blocks: the hidden states of every calibration sequence after the blocks done so
/// far (N × L × H floats) and the rotary tables. <see cref="QuantizeNextBlock"/> calibrates and quantizes block
/// <see cref="NextBlock"/> and advances the hidden states through the quantized block; <see cref="QuantizeHead"/> does the
/// untied LM head on the final norm of the last block's outputs. The model is only read.
/// </summary>
public sealed class CalibrationRun : IDisposable
{
    private readonly LlamaModel _model;
    private readonly QuantizationMethod _method;
    private readonly bool _keepFloat;
    private readonly Func<string, TensorFormat> _choice;
    private readonly List<Tensor> _hidden = [];
    private readonly Tensor? _cos, _sin; // (L, head_dim) rotary tables

    /// <param name="keepFloat">A model-transforming method's rewritten weights are kept as float layers (AWQ's folded float model).</param>
    public CalibrationRun(LlamaModel model, QuantizationPolicy policy, QuantizationMethod method, IReadOnlyList<int[]> sequences, bool keepFloat = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(policy);
        if (!method.NeedsCalibration) throw new ArgumentException($"{method.Name}: the method needs no calibration");
        if (model.Device.type != TorchSharp.DeviceType.CPU || model.DType != ScalarType.Float32)
            throw new ArgumentException($"calibrated quantization needs a float32 model on the CPU; this model runs {model.DType} on {model.Device}");
        if (sequences.Count == 0) throw new ArgumentException($"{method.Name}: the calibration set is empty");
        int length = sequences[0].Length;
        if (sequences.Any(s => s.Length != length)) throw new ArgumentException($"{method.Name}: calibration sequences differ in length");
        var c = model.Config;
        if (c.Family.SparseExperts)
            throw new NotSupportedException($"{method.Name}: calibrated methods handle dense blocks; the {c.Family.Name} architecture's experts can be quantized with rtn");
        var specs = LlamaTensorLayout.Expected(c).ToDictionary(s => s.Name);
        _choice = name => policy.Choose(specs[name], Checkpoints.Gguf.GgufTensorNames.ToGguf(name));
        foreach (var (name, _) in model.LinearLayers().Where(l => specs.ContainsKey(l.Name)))
            if (_choice(name) is var f && f != FormatRegistry.F32 && !f.IsFloat) method.Check(f);
        (_model, _method, _keepFloat) = (model, method, keepFloat);

        try
        {
            using (no_grad())
            {
                // Sequences run in batches of up to BatchTokens tokens: one forward per batch (larger GEMMs than one per sequence).
                int perBatch = Math.Max(1, CalibratedQuantizer.BatchTokens / length);
                for (int s0 = 0; s0 < sequences.Count; s0 += perBatch)
                {
                    using var scope = NewDisposeScope();
                    var batch = sequences.Skip(s0).Take(perBatch).ToList();
                    var ids = tensor(batch.SelectMany(q => q.Select(t => (long)t)).ToArray(), [batch.Count, length]);
                    _hidden.Add(model.EmbedTokens.forward(ids).to(ScalarType.Float32).DetachFromDisposeScope()); // (B, L, H)
                }
            }
            (_cos, _sin) = model.Rotary.Tables(0, length, model.DType, model.Device);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The block <see cref="QuantizeNextBlock"/> does next (= the number of blocks done).</summary>
    public int NextBlock { get; private set; }

    /// <summary>Blocks of the model.</summary>
    public int Blocks => _model.Config.NumLayers;

    /// <summary>Calibrates and quantizes block <see cref="NextBlock"/>; the result is the caller's to dispose.</summary>
    public CalibratedBlock QuantizeNextBlock()
    {
        if (NextBlock >= Blocks) throw new InvalidOperationException($"all {Blocks} blocks are done");
        if (_hidden.Count == 0) throw new ObjectDisposedException(nameof(CalibrationRun));
        var layers = new Dictionary<string, LinearLayer>();
        var norms = new Dictionary<string, Tensor>();
        try
        {
            using (no_grad())
                CalibratedQuantizer.QuantizeBlock(_model, NextBlock, _method, _choice, _hidden, _cos!, _sin!, layers, norms, _keepFloat);
        }
        catch
        {
            new CalibratedBlock(NextBlock, layers, norms).Dispose();
            throw;
        }
        return new CalibratedBlock(NextBlock++, layers, norms);
    }

    /// <summary>
    /// After the last block: the untied LM head quantized with the method on the final-norm outputs, or null when the
    /// policy leaves it float (or it is tied, or the run keeps float weights). The hidden states are freed.
    /// </summary>
    public LinearLayer? QuantizeHead()
    {
        if (NextBlock < Blocks) throw new InvalidOperationException($"the LM head comes after the last block ({NextBlock} of {Blocks} done)");
        try
        {
            var c = _model.Config;
            if (_keepFloat || c.TieWordEmbeddings || _choice("lm_head.weight") is not { IsFloat: false } hf || hf == FormatRegistry.F32) return null;
            using (no_grad())
            {
                using var stats = new InputStatistics(c.HiddenSize);
                foreach (var h in _hidden) using (var n = _model.Norm.forward(h)) stats.Add(n);
                using var w = ModelQuantizer.FloatWeight(_model.LmHead);
                return new PackedLinear(_method.Quantize(w, hf, stats));
            }
        }
        finally
        {
            FreeHidden();
        }
    }

    private void FreeHidden()
    {
        foreach (var h in _hidden) h.Dispose();
        _hidden.Clear();
    }

    public void Dispose()
    {
        FreeHidden();
        _cos?.Dispose();
        _sin?.Dispose();
    }
}
