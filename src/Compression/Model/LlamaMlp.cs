// LlamaMlp: the SwiGLU feed-forward block, down(silu(gate(x)) · up(x)).
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Model;

public sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "gate_proj")] private readonly LinearLayer _gateProj;
    [ComponentName(Name = "up_proj")] private readonly LinearLayer _upProj;
    [ComponentName(Name = "down_proj")] private readonly LinearLayer _downProj;

    public LlamaMlp(LinearLayer gate, LinearLayer up, LinearLayer down) : base(nameof(LlamaMlp))
    {
        (_gateProj, _upProj, _downProj) = (gate, up, down);
        RegisterComponents();
    }

    public IEnumerable<(string Name, LinearLayer Layer)> NamedProjections() =>
        [("gate_proj", _gateProj), ("up_proj", _upProj), ("down_proj", _downProj)];

    /// <param name="x">(B, T, H)</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(_gateProj.forward(x)) * _upProj.forward(x); // (B, T, I)
        return _downProj.forward(h).MoveToOuterDisposeScope();                 // (B, T, H)
    }
}
