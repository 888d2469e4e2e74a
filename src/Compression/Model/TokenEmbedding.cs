// TokenEmbedding: token id -> vector lookup; DenseEmbedding is the float version.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>Looks up rows of the (Vocab, Hidden) embedding matrix; quantizers may keep the matrix packed.</summary>
public abstract class TokenEmbedding : nn.Module<Tensor, Tensor>
{
    protected TokenEmbedding(string name) : base(name) { }
    public abstract string FormatName { get; }
    public abstract long WeightBytes { get; }

    /// <summary>A linear layer reading the same matrix, for a tied LM head.</summary>
    public abstract LinearLayer AsTiedHead();
}

public sealed class DenseEmbedding : TokenEmbedding
{
    [ComponentName(Name = "weight")] private readonly Parameter _weight;

    public DenseEmbedding(Tensor weight, bool requiresGrad = false) : base(nameof(DenseEmbedding))
    {
        _weight = new Parameter(weight, requiresGrad);
        RegisterComponents();
    }

    public Parameter Weight => _weight;
    public override string FormatName => new DenseLinear(_weight.detach()).FormatName;
    public override long WeightBytes => _weight.numel() * _weight.element_size();

    /// <param name="ids">(B, T) int64</param>
    public override Tensor forward(Tensor ids) =>
        _weight.index_select(0, ids.flatten()).view(ids.shape[0], ids.shape[1], _weight.shape[1]); // (B, T, H)

    public override LinearLayer AsTiedHead() => new TiedHead(this);

    /// <summary>LM head sharing the embedding parameter (gradients flow to the one tensor).</summary>
    private sealed class TiedHead(DenseEmbedding embedding) : LinearLayer(nameof(TiedHead), embedding._weight.shape[1], embedding._weight.shape[0])
    {
        public override string FormatName => embedding.FormatName;
        public override long WeightBytes => 0; // counted once, in the embedding
        public override Tensor forward(Tensor x) => nn.functional.linear(x, embedding._weight);
    }
}
