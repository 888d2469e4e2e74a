// LlamaMlp: the SwiGLU feed-forward block, down(silu(gate(x)) · up(x)) — also one expert of a sparse mixture.
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Model;

public sealed class LlamaMlp : FeedForward
{
    // Registered by hand, not with [ComponentName]: a Mixtral expert's parameters are named w1/w3/w2, as in its checkpoints.
    private readonly LinearLayer _gateProj, _upProj, _downProj;
    private readonly (string Gate, string Up, string Down) _names;

    /// <param name="names">HF names of the three projections: gate_proj/up_proj/down_proj, or Mixtral's w1/w3/w2 for an expert.</param>
    public LlamaMlp(LinearLayer gate, LinearLayer up, LinearLayer down, (string Gate, string Up, string Down)? names = null) : base(nameof(LlamaMlp))
    {
        (_gateProj, _upProj, _downProj) = (gate, up, down);
        _names = names ?? ("gate_proj", "up_proj", "down_proj");
        register_module(_names.Gate, _gateProj);
        register_module(_names.Up, _upProj);
        register_module(_names.Down, _downProj);
    }

    public override string Prefix => "mlp.";

    public override IEnumerable<(string Name, LinearLayer Layer)> NamedProjections() =>
        [(_names.Gate, _gateProj), (_names.Up, _upProj), (_names.Down, _downProj)];

    /// <param name="x">(B, T, H) or (N, H)</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gate = _gateProj.forward(x);
        var up = _upProj.forward(x);
        Tensor h;
        if (!is_grad_enabled() && !gate.requires_grad && !up.requires_grad)
        {
            // Inference: the gate's output becomes h in place (same kernels, same bits) — no two more (T × I) tensors to allocate and fault in.
            h = gate.silu_();
            h.mul_(up);
        }
        else h = nn.functional.silu(gate) * up;                                      // (…, I)
        return _downProj.forward(h).MoveToOuterDisposeScope();                 // (…, H)
    }
}
