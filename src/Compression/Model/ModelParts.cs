// ModelParts: what the one assembly point (LlamaModel.Assemble) asks a weight source for — each part of the model
// by its tensor spec. Loading, in-memory quantization, random initialisation and size accounting are sources.
namespace Compression.Model;

/// <summary>
/// Supplies the parts of a Llama-family model, one tensor spec at a time (HF name, shape, role, layer). A source decides
/// the layer type per tensor — dense, packed as stored, quantized to a planned format — so the model's structure
/// is written once, in <see cref="LlamaModel.Assemble"/>, and never rebuilt. Parts are handed over: the model owns
/// (and disposes) what a source returns.
/// </summary>
public interface IModelParts
{
    /// <summary>The token embedding (<see cref="TensorRole.Embedding"/>).</summary>
    TokenEmbedding Embedding(TensorSpec spec);

    /// <summary>A linear layer: q/k/v/o, gate/up/down, or the untied LM head.</summary>
    LinearLayer Linear(TensorSpec spec);

    /// <summary>An RMSNorm (attention, MLP, Qwen3's per-head q/k, or final norm).</summary>
    RmsNorm Norm(TensorSpec spec, double eps);

    /// <summary>A mixture-of-experts router (<see cref="TensorRole.Router"/>), always float32: its logits choose the experts.</summary>
    DenseLinear Router(TensorSpec spec) => throw new NotSupportedException($"{spec.Name}: this weight source has no mixture-of-experts routers");

    /// <summary>Per-pair divisors of the rotary frequencies stored with the weights (GGUF <c>rope_freqs</c>), or null.</summary>
    IReadOnlyList<float>? RopeFactors => null;
}
