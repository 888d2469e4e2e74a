// BlockWeights / BlockInputs: one decoder block's float weights (as methods may rewrite them) and its calibration statistics.
using static TorchSharp.torch;

namespace Compression.Quantization.Methods;

/// <summary>
/// Float32 copies of one block's norms and projections, keyed by their name inside the block ("input_layernorm",
/// "self_attn.q_proj", "mlp.down_proj" …). A method that transforms the model (AWQ) rewrites them in place; the
/// calibrated quantizer then quantizes the linears and keeps the norms from here. Owns its tensors.
/// </summary>
public sealed class BlockWeights : IDisposable
{
    public const string InputNorm = "input_layernorm", PostNorm = "post_attention_layernorm";
    public const string Q = "self_attn.q_proj", K = "self_attn.k_proj", V = "self_attn.v_proj", O = "self_attn.o_proj";
    public const string Gate = "mlp.gate_proj", Up = "mlp.up_proj", Down = "mlp.down_proj";

    private readonly Dictionary<string, Tensor> _weights = [];

    public Tensor this[string name]
    {
        get => _weights.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"block has no tensor '{name}'");
        set
        {
            if (_weights.Remove(name, out var old) && !ReferenceEquals(old, value)) old.Dispose();
            _weights[name] = value.DetachFromDisposeScope();
        }
    }

    public IEnumerable<string> Names => _weights.Keys;

    public void Dispose()
    {
        foreach (var t in _weights.Values) t.Dispose();
        _weights.Clear();
    }
}

/// <summary>
/// The statistics of the four distinct inputs of a block's linears: the attention input (q, k, v), the attention output
/// (o), the MLP input (gate, up) and the down projection's input. Owns them.
/// </summary>
public sealed class BlockInputs : IDisposable
{
    public required InputStatistics Attention { get; init; }
    public required InputStatistics AttentionOutput { get; init; }
    public required InputStatistics Mlp { get; init; }
    public required InputStatistics Down { get; init; }

    /// <summary>The statistics of the input of projection <paramref name="name"/> (a <see cref="BlockWeights"/> name).</summary>
    public InputStatistics For(string name) => name switch
    {
        BlockWeights.Q or BlockWeights.K or BlockWeights.V => Attention,
        BlockWeights.O => AttentionOutput,
        BlockWeights.Gate or BlockWeights.Up => Mlp,
        BlockWeights.Down => Down,
        _ => throw new ArgumentException($"no input statistics for '{name}'"),
    };

    public void Dispose()
    {
        Attention.Dispose();
        AttentionOutput.Dispose();
        Mlp.Dispose();
        Down.Dispose();
    }
}
