// LlamaModel: embedding → decoder layers → final norm → LM head; prefill and decode through a KV cache.
using Compression.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>
/// The Llama-family causal language model (Llama 2/3.x, Qwen3, Mistral, Mixtral: see <see cref="Families.ModelFamilies"/>). Activations run in <see cref="DType"/> (float32 by default);
/// the logits returned are always float32. Build it with <see cref="ModelLoader"/> (from a checkpoint),
/// <see cref="CreateRandom"/> (for training) or <see cref="CreateOnMeta"/> (for size accounting); all of them, and
/// in-memory quantization, go through <see cref="Assemble"/>.
/// </summary>
public sealed class LlamaModel : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "embed_tokens")] private readonly TokenEmbedding _embedTokens;
    [ComponentName(Name = "layers")] private readonly ModuleList<LlamaDecoderLayer> _layers;
    [ComponentName(Name = "norm")] private readonly RmsNorm _norm;
    [ComponentName(Name = "lm_head")] private readonly LinearLayer _lmHead;
    private readonly RotaryEmbedding _rotary;
    private readonly LlamaDecoderLayer[] _layerArray; // the same layers, for indexed access without copying the ModuleList

    public LlamaModel(LlamaConfig config, TokenEmbedding embedTokens, IEnumerable<LlamaDecoderLayer> layers, RmsNorm norm,
        LinearLayer? lmHead, RotaryEmbedding rotary, ScalarType dtype, Device device) : base(nameof(LlamaModel))
    {
        Config = config;
        DType = dtype;
        Device = device;
        _embedTokens = embedTokens;
        _layerArray = layers.ToArray();
        _layers = new ModuleList<LlamaDecoderLayer>(_layerArray);
        _norm = norm;
        _lmHead = lmHead ?? embedTokens.AsTiedHead();
        _rotary = rotary;
        RegisterComponents();
    }

    public LlamaConfig Config { get; }
    /// <summary>Activation dtype (float32, bfloat16 or float16).</summary>
    public ScalarType DType { get; }
    public Device Device { get; }
    public TokenEmbedding EmbedTokens => _embedTokens;
    public IReadOnlyList<LlamaDecoderLayer> Layers => _layerArray;
    public RmsNorm Norm => _norm;
    public LinearLayer LmHead => _lmHead;
    public RotaryEmbedding Rotary => _rotary;

    /// <summary>Every linear layer with its Hugging Face weight name (the tensors quantizers replace).</summary>
    public IEnumerable<(string Name, LinearLayer Layer)> LinearLayers()
    {
        for (int i = 0; i < _layers.Count; i++)
            foreach (var (name, layer) in _layers[i].NamedProjections())
                yield return ($"model.layers.{i}.{name}.weight", layer);
        yield return ("lm_head.weight", _lmHead);
    }

    /// <summary>Bytes of all weights as held in memory (packed layers count their packed bytes; a tied head shares the embedding's).</summary>
    public long WeightBytes =>
        _embedTokens.WeightBytes + LinearLayers().Where(l => !(Config.TieWordEmbeddings && ReferenceEquals(l.Layer, _lmHead)))
            .Sum(l => l.Layer.WeightBytes)
        + NamedNorms().Sum(n => n.Norm.Weight.numel()) * 4 + _layerArray.Sum(l => l.Mlp.OtherWeightBytes);

    /// <summary>Every RMSNorm with its Hugging Face weight name (block norms, Qwen3's q/k norms, the final norm).</summary>
    public IEnumerable<(string Name, RmsNorm Norm)> NamedNorms()
    {
        for (int i = 0; i < _layerArray.Length; i++)
            foreach (var (name, norm) in _layerArray[i].NamedNorms())
                yield return ($"model.layers.{i}.{name}.weight", norm);
        yield return ("model.norm.weight", _norm);
    }

    /// <summary>A KV cache for this model holding up to <paramref name="capacity"/> positions.</summary>
    public KvCache NewCache(int capacity, int batch = 1) => new(Config, capacity, DType, Device, batch);

    public override Tensor forward(Tensor ids) => Forward(ids, null);

    /// <summary>
    /// Logits (B, T, V) float32 for token ids (B, T) at positions [cache.Length, cache.Length+T).
    /// Without a cache the ids are a fresh sequence starting at position 0. With one, their keys and
    /// values are appended and the cache's length advances by T.
    /// </summary>
    public Tensor Forward(Tensor ids, KvCache? cache)
    {
        using var scope = NewDisposeScope();
        return Head(Hidden(ids, cache)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The final-norm hidden states (B, T, H) in <see cref="DType"/> — <see cref="Forward"/> without the LM head, so
    /// callers that need the logits of a few positions only (the last one while generating, the scored ones while
    /// evaluating) run the (V × H) head on just those rows: <c>Head(Hidden(ids, cache)[.., ^1..])</c>.
    /// </summary>
    public Tensor Hidden(Tensor ids, KvCache? cache) => Hidden(ids, cache, null);

    /// <summary>
    /// Logits (B, T, V) of a fresh sequence as <see cref="Forward(Tensor, KvCache?)"/>, also appending every decoder
    /// layer's output (B, T, H) — the residual stream before the final norm — to <paramref name="layerOutputs"/>, in the
    /// caller's dispose scope (distillation matches them layer by layer).
    /// </summary>
    public Tensor ForwardWithLayers(Tensor ids, List<Tensor> layerOutputs) => Head(Hidden(ids, null, layerOutputs)); // no scope here: the outputs belong to the caller's

    private Tensor Hidden(Tensor ids, KvCache? cache, List<Tensor>? layerOutputs)
    {
        using var scope = NewDisposeScope();
        int start = cache?.Length ?? 0;
        long t = ids.shape[1];
        if (start + t > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"sequence of {start + t} positions exceeds the model's max_position_embeddings ({Config.MaxPositionEmbeddings})");
        ids = ids.to(ScalarType.Int64, Device);
        var (cos, sin) = _rotary.Tables(start, t, DType, Device);      // (T, hd)
        var h = _embedTokens.forward(ids).to(DType);                    // (B, T, H)
        bool done = false;
        if (t == 1 && ids.shape[0] == 1 && cache is not null && layerOutputs is null && DecodeStep.Enabled
            && Decode is { } step && step.Accepts(cache, start))
        {
            h = h.clone();                                              // ours to update in place (an embedding may return a view)
            unsafe { done = step.TryRun((float*)TensorPointer.Of(h), (float*)TensorPointer.Of(cos), (float*)TensorPointer.Of(sin), cache, start); }
        }
        if (!done)
            foreach (var layer in _layerArray)
            {
                h = layer.Forward(h, cos, sin, cache, start);
                layerOutputs?.Add(h.MoveToOuterDisposeScope());
            }
        cache?.SetLength(start + (int)t);
        return _norm.forward(h).MoveToOuterDisposeScope();
    }

    /// <summary>Logits (…, V) float32 from final-norm hidden states (…, H).</summary>
    public Tensor Head(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return _lmHead.forward(hidden).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private DecodeStep? _decode;
    private bool _decodeChecked;

    /// <summary>Whether one-token steps of this model can take <see cref="DecodeStep"/>'s path.</summary>
    internal bool HasDecodeStep => Decode is not null;

    /// <summary>The one-token path for this model (<see cref="DecodeStep"/>), or null when its shape needs libtorch's.</summary>
    private DecodeStep? Decode
    {
        get
        {
            if (!_decodeChecked) (_decode, _decodeChecked) = (DecodeStep.TryCreate(this), true);
            return _decode;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _rotary.Dispose(); _decode?.Dispose(); }
        base.Dispose(disposing);
    }

    /// <summary>Logits of one sequence as a (T, V) float32 array, row i = logits after token i.</summary>
    public float[,] Logits(ReadOnlySpan<int> tokens)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = Forward(TokenIds(tokens), null)[0].cpu();                       // (T, V)
        var result = new float[tokens.Length, Config.VocabSize];
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(logits.contiguous().bytes)
            .CopyTo(System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref result[0, 0], result.Length));
        return result;
    }

    /// <summary>Token ids as the (1, T) int64 tensor <see cref="Forward"/> takes.</summary>
    public static Tensor TokenIds(ReadOnlySpan<int> tokens)
    {
        var ids = new long[tokens.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = tokens[i];
        return tensor(ids, [1, ids.Length]);
    }

    /// <summary>A randomly initialised, trainable model (normal(0, std) weights, unit norms), as HF initialises Llama.</summary>
    public static LlamaModel CreateRandom(LlamaConfig c, int seed, double std = 0.02, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        device ??= CPU;
        var generator = new Generator((ulong)seed);
        return Build(c, dtype, device, (name, shape) => shape.Length == 1 ? ones(shape, dtype, device) : Normal(shape, std, generator, dtype, device),
            requiresGrad: true);
    }

    /// <summary>
    /// What TorchSharp's normal(0, std) computes (randn·std + 0), without its temporary Scalars (<see cref="TensorMath"/>);
    /// the intermediate tensors are held until libtorch is done with them and then freed (outside a dispose scope the
    /// finalizer could free a temporary one mid-call: a test process crashed in <c>mul</c> that way).
    /// </summary>
    private static Tensor Normal(long[] shape, double std, Generator generator, ScalarType dtype, Device device)
    {
        var r = randn(shape, generator: generator);
        var scaled = r.Times(std);
        var result = scaled.to(dtype, device);
        if (!ReferenceEquals(result, scaled)) scaled.Dispose();
        r.Dispose();
        return result;
    }

    /// <summary>The model's structure with no weight data, on the <c>meta</c> device (for size accounting).</summary>
    public static LlamaModel CreateOnMeta(LlamaConfig c, ScalarType dtype = ScalarType.BFloat16)
    {
        var meta = new Device(DeviceType.META);
        return Build(c, dtype, meta, (_, shape) => empty(shape, dtype, meta), requiresGrad: false);
    }

    /// <summary>Assembles a model with dense layers from a weight source keyed by Hugging Face name.</summary>
    public static LlamaModel Build(LlamaConfig c, ScalarType dtype, Device device, Func<string, long[], Tensor> weight,
        bool requiresGrad = false, IReadOnlyList<float>? ropeFactors = null) =>
        Assemble(c, new DenseParts(weight, requiresGrad, ropeFactors), dtype, device);

    /// <summary>
    /// The one place a model is put together: every tensor <see cref="LlamaTensorLayout.Expected"/> names for
    /// <paramref name="c"/> is asked of <paramref name="parts"/> in checkpoint order (embedding, blocks, final norm,
    /// head). If a part fails, the parts already made are disposed.
    /// </summary>
    public static LlamaModel Assemble(LlamaConfig c, IModelParts parts, ScalarType dtype, Device device)
    {
        var family = c.Family;
        var specs = LlamaTensorLayout.Expected(c).ToDictionary(s => s.Name);
        var made = new List<IDisposable>();
        T Make<T>(T part) where T : IDisposable { made.Add(part); return part; }
        LinearLayer Linear(string name) => Make(parts.Linear(specs[name]));
        RmsNorm Norm(string name) => Make(parts.Norm(specs[name], c.RmsNormEps));
        try
        {
            var embed = Make(parts.Embedding(specs["model.embed_tokens.weight"]));
            var layers = new List<LlamaDecoderLayer>();
            for (int i = 0; i < c.NumLayers; i++)
            {
                string p = $"model.layers.{i}.";
                var inputNorm = Norm(p + "input_layernorm.weight");
                var (q, k, v, o) = (Linear(p + "self_attn.q_proj.weight"), Linear(p + "self_attn.k_proj.weight"),
                    Linear(p + "self_attn.v_proj.weight"), Linear(p + "self_attn.o_proj.weight"));
                var attention = family.QueryKeyNorm
                    ? new LlamaAttention(c, q, k, v, o, Norm(p + "self_attn.q_norm.weight"), Norm(p + "self_attn.k_norm.weight"))
                    : new LlamaAttention(c, q, k, v, o);
                var postNorm = Norm(p + "post_attention_layernorm.weight");
                FeedForward mlp;
                if (family.SparseExperts)
                {
                    string m = p + "block_sparse_moe.";
                    var router = Make(parts.Router(specs[m + "gate.weight"]));
                    var experts = Enumerable.Range(0, c.Experts).Select(e => new LlamaMlp(Linear($"{m}experts.{e}.w1.weight"),
                        Linear($"{m}experts.{e}.w3.weight"), Linear($"{m}experts.{e}.w2.weight"), ("w1", "w3", "w2"))).ToList();
                    mlp = new SparseMoe(router, experts, c.ExpertsPerToken);
                }
                else mlp = new LlamaMlp(Linear(p + "mlp.gate_proj.weight"), Linear(p + "mlp.up_proj.weight"), Linear(p + "mlp.down_proj.weight"));
                layers.Add(new LlamaDecoderLayer(i, inputNorm, attention, postNorm, mlp));
            }
            var norm = Norm("model.norm.weight");
            var head = c.TieWordEmbeddings ? null : Linear("lm_head.weight");
            return new LlamaModel(c, embed, layers, norm, head, new RotaryEmbedding(c, parts.RopeFactors), dtype, device);
        }
        catch
        {
            foreach (var part in made) part.Dispose();
            throw;
        }
    }

    /// <summary>Dense float layers from a (name, shape) → tensor function.</summary>
    private sealed class DenseParts(Func<string, long[], Tensor> weight, bool requiresGrad, IReadOnlyList<float>? ropeFactors) : IModelParts
    {
        public TokenEmbedding Embedding(TensorSpec spec) => new DenseEmbedding(weight(spec.Name, spec.Shape), requiresGrad);
        public LinearLayer Linear(TensorSpec spec) => new DenseLinear(weight(spec.Name, spec.Shape), requiresGrad);
        public RmsNorm Norm(TensorSpec spec, double eps) => new(weight(spec.Name, spec.Shape), eps, requiresGrad);
        public DenseLinear Router(TensorSpec spec) => new(weight(spec.Name, spec.Shape).to(ScalarType.Float32), requiresGrad);
        public IReadOnlyList<float>? RopeFactors => ropeFactors;
    }
}
