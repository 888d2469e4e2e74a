// LlamaDecoderLayer: pre-norm attention and feed-forward (dense MLP or sparse experts), each with a residual connection.
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Model;

public sealed class LlamaDecoderLayer : nn.Module<Tensor, Tensor>
{
    // Registered by hand: the feed-forward part is "mlp" or Mixtral's "block_sparse_moe", as in the checkpoints.
    private readonly RmsNorm _inputNorm;
    private readonly LlamaAttention _attention;
    private readonly RmsNorm _postAttentionNorm;
    private readonly FeedForward _mlp;
    private readonly int _index;

    public LlamaDecoderLayer(int index, RmsNorm inputNorm, LlamaAttention attention, RmsNorm postNorm, FeedForward mlp)
        : base(nameof(LlamaDecoderLayer))
    {
        (_index, _inputNorm, _attention, _postAttentionNorm, _mlp) = (index, inputNorm, attention, postNorm, mlp);
        register_module("input_layernorm", _inputNorm);
        register_module("self_attn", _attention);
        register_module("post_attention_layernorm", _postAttentionNorm);
        register_module(_mlp.Prefix.TrimEnd('.'), _mlp);
    }

    public LlamaAttention Attention => _attention;
    /// <summary>The feed-forward part: a <see cref="LlamaMlp"/>, or a <see cref="SparseMoe"/> for Mixtral.</summary>
    public FeedForward Mlp => _mlp;
    public RmsNorm InputNorm => _inputNorm;
    public RmsNorm PostAttentionNorm => _postAttentionNorm;

    /// <summary>The layer's linear projections under their HF names relative to the layer ("self_attn.q_proj", ...).</summary>
    public IEnumerable<(string Name, LinearLayer Layer)> NamedProjections() =>
        _attention.NamedProjections().Select(p => ("self_attn." + p.Name, p.Layer))
            .Concat(_mlp.NamedProjections().Select(p => (_mlp.Prefix + p.Name, p.Layer)));

    /// <summary>The layer's norms under their HF names relative to the layer (Qwen3's q_norm/k_norm included).</summary>
    public IEnumerable<(string Name, RmsNorm Norm)> NamedNorms()
    {
        yield return ("input_layernorm", _inputNorm);
        if (_attention.QueryNorm is { } qn) yield return ("self_attn.q_norm", qn);
        if (_attention.KeyNorm is { } kn) yield return ("self_attn.k_norm", kn);
        yield return ("post_attention_layernorm", _postAttentionNorm);
    }

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(x, cos, sin, cache, start)");

    /// <summary>One block: x + attn(norm(x)), then h + mlp(norm(h)).</summary>
    /// <param name="x">(B, T, H) activations.</param>
    /// <param name="cos">(T, hd) rotary cosines for positions [start, start+T).</param>
    /// <param name="sin">(T, hd) rotary sines.</param>
    /// <param name="cache">KV cache to append to, or null for a fresh sequence.</param>
    /// <param name="start">Position of the first token of x.</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, KvCache? cache, int start)
    {
        using var scope = NewDisposeScope();
        var h = x.Plus(_attention.Forward(_inputNorm.forward(x), cos, sin, cache, _index, start)); // (B, T, H)
        var y = h.Plus(_mlp.forward(_postAttentionNorm.forward(h)));
        return y.MoveToOuterDisposeScope();
    }
}
