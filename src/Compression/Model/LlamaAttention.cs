// LlamaAttention: grouped-query self-attention with rotary embeddings, causal (optionally sliding-window) mask and KV
// cache; Qwen3's per-head query/key RMSNorm when the family has it.
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Model;

public sealed class LlamaAttention : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "q_proj")] private readonly LinearLayer _qProj;
    [ComponentName(Name = "k_proj")] private readonly LinearLayer _kProj;
    [ComponentName(Name = "v_proj")] private readonly LinearLayer _vProj;
    [ComponentName(Name = "o_proj")] private readonly LinearLayer _oProj;
    [ComponentName(Name = "q_norm")] private readonly RmsNorm? _qNorm;
    [ComponentName(Name = "k_norm")] private readonly RmsNorm? _kNorm;
    private readonly int _heads, _kvHeads, _headDim;
    private readonly int? _window;

    /// <param name="qNorm">Per-head RMSNorm of the queries (Qwen3), or null.</param>
    /// <param name="kNorm">Per-head RMSNorm of the keys (Qwen3), or null.</param>
    public LlamaAttention(LlamaConfig c, LinearLayer q, LinearLayer k, LinearLayer v, LinearLayer o, RmsNorm? qNorm = null, RmsNorm? kNorm = null)
        : base(nameof(LlamaAttention))
    {
        if ((qNorm is null) != (kNorm is null)) throw new ArgumentException("q_norm and k_norm come together");
        (_qProj, _kProj, _vProj, _oProj, _qNorm, _kNorm) = (q, k, v, o, qNorm, kNorm);
        (_heads, _kvHeads, _headDim, _window) = (c.NumHeads, c.NumKeyValueHeads, c.HeadDim, c.AttentionWindow);
        RegisterComponents();
    }

    /// <summary>The per-head query norm (Qwen3), or null.</summary>
    public RmsNorm? QueryNorm => _qNorm;
    /// <summary>The per-head key norm (Qwen3), or null.</summary>
    public RmsNorm? KeyNorm => _kNorm;

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
        var q = _qProj.forward(x).view(b, t, _heads, _headDim);                  // (B, T, nh, hd)
        var k = _kProj.forward(x).view(b, t, _kvHeads, _headDim);                // (B, T, nKv, hd)
        if (_qNorm is not null) (q, k) = (_qNorm.forward(q), _kNorm!.forward(k)); // RMS over hd, per head, before RoPE
        q = RotaryEmbedding.Apply(q.transpose(1, 2), cos, sin);                  // (B, nh, T, hd)
        k = RotaryEmbedding.Apply(k.transpose(1, 2), cos, sin);                  // (B, nKv, T, hd)
        var v = _vProj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2); // (B, nKv, T, hd)
        if (_window is int w && start + t > w)
        {
            if (cache is null || t > 1)
                return _oProj.forward(Windowed(q, k, v, cache, layer, start, w)).MoveToOuterDisposeScope();
            (k, v) = cache.AppendRolling(layer, start, k, v);                      // (B, nKv, w, hd): exactly the window
        }
        else if (cache is not null) (k, v) = cache.Update(layer, start, k, v);     // (B, nKv, S, hd), S = start+T
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

    /// <summary>
    /// Attention once the sequence is longer than the window: query at position p sees keys at p−w+1 … p. With a cache,
    /// the keys come from its rolling buffer (the last w positions, in position order) plus the new tokens.
    /// </summary>
    private Tensor Windowed(Tensor q, Tensor k, Tensor v, KvCache? cache, int layer, int start, int w)
    {
        long b = q.shape[0], t = q.shape[2];
        int first = start;                                                          // position of the first key
        if (cache is not null) (k, v, first) = cache.UpdateWindow(layer, start, k, v); // (B, nKv, S, hd)
        long s = k.shape[2];
        int groups = _heads / _kvHeads;
        if (groups > 1)
        {
            k = k.repeat_interleave(groups, dim: 1);                               // (B, nh, S, hd)
            v = v.repeat_interleave(groups, dim: 1);
        }
        // Every Scalar held for its call (TensorMath).
        using Scalar qFrom = ((long)start).ToScalar(), qTo = (start + t).ToScalar(), kFrom = ((long)first).ToScalar(),
            kTo = (first + s).ToScalar(), one = 1L.ToScalar(), zero = 0L.ToScalar(), window = ((long)w).ToScalar();
        var qPos = arange(qFrom, qTo, one, dtype: ScalarType.Int64, device: q.device).unsqueeze(1);  // (T, 1)
        var kPos = arange(kFrom, kTo, one, dtype: ScalarType.Int64, device: q.device).unsqueeze(0);  // (1, S)
        var distance = qPos - kPos;                                                 // (T, S)
        var allowed = distance.ge(zero).logical_and(distance.lt(window));
        var y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: allowed); // (B, nh, T, hd)
        return y.transpose(1, 2).contiguous().view(b, t, _heads * _headDim);       // (B, T, nh·hd)
    }
}
