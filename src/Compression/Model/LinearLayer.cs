// LinearLayer: the one abstraction every weight matmul goes through; DenseLinear is the float version.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>
/// y = x·Wᵀ with W of shape (Out, In). The model only knows this type; quantizers supply subclasses
/// that keep W packed and run their own kernels.
/// </summary>
public abstract class LinearLayer : nn.Module<Tensor, Tensor>
{
    protected LinearLayer(string name, long inFeatures, long outFeatures) : base(name)
    {
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }

    /// <summary>Name of the storage format of W ("f32", "q4_0", ...).</summary>
    public abstract string FormatName { get; }

    /// <summary>Bytes W occupies in memory.</summary>
    public abstract long WeightBytes { get; }

    /// <summary>
    /// Called with the input x of every forward while set — how calibration records what a layer sees without
    /// rebuilding the model. Subclasses call <see cref="Observe"/> first thing in <c>forward</c>.
    /// </summary>
    public Action<Tensor>? InputObserver { get; set; }

    /// <summary>Hands x to the <see cref="InputObserver"/>, if any.</summary>
    protected void Observe(Tensor x) => InputObserver?.Invoke(x);
}

/// <summary>A float linear layer backed by a TorchSharp parameter (trainable; any dtype and device).</summary>
public sealed class DenseLinear : LinearLayer
{
    [ComponentName(Name = "weight")] private readonly Parameter _weight;

    public DenseLinear(Tensor weight, bool requiresGrad = false)
        : base(nameof(DenseLinear), weight.shape[1], weight.shape[0])
    {
        _weight = new Parameter(weight, requiresGrad);
        RegisterComponents();
    }

    public Parameter Weight => _weight;
    public override string FormatName => _weight.dtype switch
    {
        ScalarType.Float32 => "f32",
        ScalarType.BFloat16 => "bf16",
        ScalarType.Float16 => "f16",
        var t => t.ToString().ToLowerInvariant(),
    };
    public override long WeightBytes => _weight.numel() * _weight.element_size();

    public override Tensor forward(Tensor x)
    {
        Observe(x);
        return nn.functional.linear(x, _weight);
    }
}
