// RmsNorm: x / sqrt(mean(x²) + eps) · w, computed in float32 whatever the activation dtype.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compression.Model;

public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")] private readonly Parameter _weight;
    private readonly double _eps;

    public RmsNorm(Tensor weight, double eps, bool requiresGrad = false) : base(nameof(RmsNorm))
    {
        _weight = new Parameter(weight, requiresGrad);
        _eps = eps;
        RegisterComponents();
    }

    public Parameter Weight => _weight;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x32 = x.to(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.pow(2).mean([-1], keepdim: true) + _eps); // (…, H)
        return (normed.to(x.dtype) * _weight.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
