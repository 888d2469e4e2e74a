// FakeQuantLinear: a trainable linear layer whose forward sees its float master weight through a format's quantizer.
using Compression.Model;
using Compression.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compression.Training.Qat;

/// <summary>
/// y = x·Q(W)ᵀ with the straight-through estimator of <see cref="FakeQuantizer"/>: the forward is the model the format
/// will store, the gradient updates the float32 master W. Its parameter is called "weight", so a checkpoint holds the
/// master weights under the model's ordinary Hugging Face names.
/// </summary>
public sealed class FakeQuantLinear : LinearLayer
{
    [ComponentName(Name = "weight")] private readonly Parameter _weight;
    /// <summary>Learned block scales (Out, In/Block), or null: the format's own scale. Saved as "weight_scale".</summary>
    [ComponentName(Name = "weight_scale")] private readonly Parameter? _scale;

    /// <param name="weight">(Out, In) float32 initial master weight (copied into a new trainable parameter).</param>
    /// <param name="learnedScale">Train a scale per block (LSQ, <see cref="LearnedScale"/>) initialised to the format's own.</param>
    public FakeQuantLinear(Tensor weight, TensorFormat format, bool learnedScale = false) : base(nameof(FakeQuantLinear), weight.shape[1], weight.shape[0])
    {
        Format = format;
        _weight = new Parameter(weight.detach().to(ScalarType.Float32, copy: true), requires_grad: true);
        if (learnedScale) _scale = new Parameter(LearnedScale.Initial(_weight, format), requires_grad: true);
        RegisterComponents();
    }

    /// <summary>The learned block scales, or null when the block scale is the format's own.</summary>
    public Parameter? Scale => _scale;

    /// <summary>The format the forward projects onto.</summary>
    public TensorFormat Format { get; }
    public Parameter Weight => _weight;
    public override string FormatName => Format.Name;
    /// <summary>The bytes the weight will take in its format (what the exported file holds).</summary>
    public override long WeightBytes => Format.ByteCount(OutFeatures, InFeatures);

    public override Tensor forward(Tensor x)
    {
        Observe(x);
        using var scope = NewDisposeScope();
        return nn.functional.linear(x, FakeQuantizer.Apply(_weight, Format, _scale)).MoveToOuterDisposeScope();
    }
}

/// <summary>The token embedding seen through a format's quantizer (pure policies quantize it too), straight-through.</summary>
public sealed class FakeQuantEmbedding : TokenEmbedding
{
    [ComponentName(Name = "weight")] private readonly Parameter _weight;
    [ComponentName(Name = "weight_scale")] private readonly Parameter? _scale;

    /// <param name="weight">(Vocab, Hidden) float32 initial master weight (copied).</param>
    /// <param name="learnedScale">Train a scale per block, as <see cref="FakeQuantLinear"/> (a tied head shares it).</param>
    public FakeQuantEmbedding(Tensor weight, TensorFormat format, bool learnedScale = false) : base(nameof(FakeQuantEmbedding))
    {
        Format = format;
        _weight = new Parameter(weight.detach().to(ScalarType.Float32, copy: true), requires_grad: true);
        if (learnedScale) _scale = new Parameter(LearnedScale.Initial(_weight, format), requires_grad: true);
        RegisterComponents();
    }

    public Parameter? Scale => _scale;

    public TensorFormat Format { get; }
    public Parameter Weight => _weight;
    public override string FormatName => Format.Name;
    public override long WeightBytes => Format.ByteCount(_weight.shape[0], _weight.shape[1]);

    /// <param name="ids">(B, T) int64</param>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        // Only the looked-up rows matter, but the projection is per row anyway: quantizing the whole table keeps it simple
        // and costs one pass over V×H per step.
        var w = FakeQuantizer.Apply(_weight, Format, _scale);
        return w.index_select(0, ids.flatten()).view(ids.shape[0], ids.shape[1], _weight.shape[1]).MoveToOuterDisposeScope(); // (B, T, H)
    }

    public override LinearLayer AsTiedHead() => new TiedHead(this);

    /// <summary>LM head reading the same fake-quantized table (gradients reach the one master tensor).</summary>
    private sealed class TiedHead(FakeQuantEmbedding embedding) : LinearLayer(nameof(TiedHead), embedding._weight.shape[1], embedding._weight.shape[0])
    {
        public override string FormatName => embedding.FormatName;
        public override long WeightBytes => 0;
        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return nn.functional.linear(x, FakeQuantizer.Apply(embedding._weight, embedding.Format, embedding._scale)).MoveToOuterDisposeScope();
        }
    }
}
