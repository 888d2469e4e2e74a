// LlamaAttention: grouped-query self-attention with rotary embeddings, causal mask and KV cache.
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Model;

public sealed class LlamaAttention : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "q_proj")] private readonly LinearLayer _qProj;
    [ComponentName(Name = "k_proj")] private readonly LinearLayer _kProj;
    [ComponentName(Name = "v_proj")] private readonly LinearLayer _vProj;
    [ComponentName(Name = "o_proj")] private readonly LinearLayer _oProj;
    private readonly int _heads, _kvHeads, _headDim;

    public LlamaAttention(LlamaConfig c, LinearLayer q, LinearLayer k, LinearLayer v, LinearLayer o) : base(nameof(LlamaAttention))
    {
        (_qProj, _kProj, _vProj, _oProj) = (q, k, v, o);
        (_heads, _kvHeads, _headDim) = (c.NumHeads, c.NumKeyValueHeads, c.HeadDim);
        RegisterComponents();
    }

    public IEnumerable<(string Name, LinearLayer Layer)> NamedProjections() =>
        [("q_proj", _qProj), ("k_proj", _kProj), ("v_proj", _vProj), ("o_proj", _oProj)];

    public override Tensor forward(Tensor x) => throw new NotSupportedException("call Forward(x, cos, sin, cache, layer, start)");

    /// <summary>Causal grouped-query attention over the cached prefix and the new tokens.</summary>
    /// <param name="x">(B, T, H) normalised activations.</param>
    /// <param name="cos">(T, hd) rotary cosines for positions [start, start+T).</param>
    /// <param name="sin">(T, hd) rotary sines.</param>
    /// <param name="cache">KV cache to append to, or null for a fresh sequence.</param>
    /// <param name="layer">This layer's index in the cache.</param>
    /// <param name="start">Position of the first token of x.</param>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, KvCache? cache, int layer, int start)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = _qProj.forward(x).view(b, t, _heads, _headDim).transpose(1, 2);   // (B, nh, T, hd)
        var k = _kProj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2); // (B, nKv, T, hd)
        var v = _vProj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2); // (B, nKv, T, hd)
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null) (k, v) = cache.Update(layer, start, k, v);          // (B, nKv, S, hd), S = start+T
        int groups = _heads / _kvHeads;
        Tensor y;
        if (t == 1 && groups > 1)
        {
            // One decoded token sees every cached position. The query heads sharing a KV head become rows of one
            // query block against that head's keys, so the cache is read as it is, not copied ×groups per layer.
            var qg = q.reshape(b, _kvHeads, groups, _headDim);                     // (B, nKv, groups, hd)
            y = nn.functional.scaled_dot_product_attention(qg, k, v).reshape(b, _heads, 1, _headDim); // (B, nh, 1, hd)
        }
        else
        {
            if (groups > 1)
            {
                k = k.repeat_interleave(groups, dim: 1);                           // (B, nh, S, hd)
                v = v.repeat_interleave(groups, dim: 1);
            }
            if (start == 0 || t == 1)
            {
                // A fresh prompt is plain causal; a single decoded token sees everything before it.
                y = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: start == 0 && t > 1);
            }
            else
            {
                // Prefill continuing a cached prefix: query i (position start+i) sees keys 0..start+i.
                long s = k.shape[2];
                var allowed = ones(t, s, ScalarType.Bool, x.device).tril(diagonal: start);  // (T, S)
                y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: allowed);
            }
        }
        y = y.transpose(1, 2).contiguous().view(b, t, _heads * _headDim);          // (B, T, nh·hd)
        return _oProj.forward(y).MoveToOuterDisposeScope();
    }
}
