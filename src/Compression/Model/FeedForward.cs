// FeedForward: what a decoder block runs after attention — the dense SwiGLU MLP or a sparse mixture of them.
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>The second half of a decoder block: (B, T, H) → (B, T, H).</summary>
public abstract class FeedForward : nn.Module<Tensor, Tensor>
{
    protected FeedForward(string name) : base(name) { }

    /// <summary>The HF name of this part relative to its layer, with a trailing dot ("mlp.", "block_sparse_moe.").</summary>
    public abstract string Prefix { get; }

    /// <summary>Its quantizable linear layers under HF names relative to <see cref="Prefix"/>.</summary>
    public abstract IEnumerable<(string Name, LinearLayer Layer)> NamedProjections();

    /// <summary>Bytes of weights that are not in <see cref="NamedProjections"/> (a router).</summary>
    public virtual long OtherWeightBytes => 0;
}
