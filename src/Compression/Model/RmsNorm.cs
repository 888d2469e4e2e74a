// RmsNorm: x / sqrt(mean(x²) + eps) · w, computed in float32 whatever the activation dtype.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compression.Model;

public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")] private readonly Parameter _weight;
    // eps as a long-lived 0-dim tensor, not a temporary Scalar: TorchSharp's implicit double → Scalar objects can be
    // finalized by the GC while the native add still reads them, which surfaced as rare "toFloat" failures under load
    // (and so can the ones TorchSharp makes itself: see TensorMath).
    private readonly Tensor _eps;

    public RmsNorm(Tensor weight, double eps, bool requiresGrad = false) : base(nameof(RmsNorm))
    {
        _weight = new Parameter(weight, requiresGrad);
        RegisterComponents();
        _eps = tensor((float)eps, device: _weight.device).DetachFromDisposeScope(); // created after registration: not a buffer
        Eps = eps;
    }

    public double Eps { get; }

    public Parameter Weight => _weight;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x32 = x.to(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.Squared().mean([-1], keepdim: true).Plus(_eps)); // (…, H)
        return (normed.to(x.dtype) * _weight.to(x.dtype)).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _eps.Dispose();
        base.Dispose(disposing);
    }
}
