// SparseMoe: Mixtral's sparse mixture of SwiGLU experts — a float router picks the top-k experts of each token, their
// outputs are summed with the renormalised router probabilities.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compression.Model;

public sealed class SparseMoe : FeedForward
{
    [ComponentName(Name = "gate")] private readonly DenseLinear _router;
    [ComponentName(Name = "experts")] private readonly ModuleList<LlamaMlp> _experts;
    private readonly LlamaMlp[] _expertArray;
    private readonly int _topK;

    /// <param name="router">(Experts, Hidden) float32 weights; routing is computed in float32 whatever the activation dtype.</param>
    public SparseMoe(DenseLinear router, IEnumerable<LlamaMlp> experts, int topK) : base(nameof(SparseMoe))
    {
        _router = router;
        _expertArray = experts.ToArray();
        _experts = new ModuleList<LlamaMlp>(_expertArray);
        if (router.OutFeatures != _expertArray.Length) throw new ArgumentException($"router has {router.OutFeatures} outputs for {_expertArray.Length} experts");
        if (topK < 1 || topK > _expertArray.Length) throw new ArgumentException($"top-{topK} routing over {_expertArray.Length} experts");
        _topK = topK;
        RegisterComponents();
    }

    public override string Prefix => "block_sparse_moe.";
    public DenseLinear Router => _router;
    public IReadOnlyList<LlamaMlp> Experts => _expertArray;
    public int TopK => _topK;
    public override long OtherWeightBytes => _router.WeightBytes;

    public override IEnumerable<(string Name, LinearLayer Layer)> NamedProjections() =>
        _expertArray.SelectMany((e, i) => e.NamedProjections().Select(p => ($"experts.{i}.{p.Name}", p.Layer)));

    /// <summary>
    /// The experts of each token and their weights: softmax over all router logits, the top k, renormalised to sum to 1
    /// (HF Mixtral; llama.cpp's build_moe_ffn with norm_w).
    /// </summary>
    /// <param name="x">(N, H)</param>
    /// <returns>Experts (N, k) int64 and weights (N, k) float32.</returns>
    public (Tensor Experts, Tensor Weights) Route(Tensor x)
    {
        using var scope = NewDisposeScope();
        var probs = nn.functional.softmax(_router.forward(x.to(_router.Weight.dtype)).to(ScalarType.Float32), -1); // (N, E)
        var (weights, experts) = probs.topk(_topK, dim: -1);                                        // (N, k)
        weights = weights / weights.sum(-1, keepdim: true);
        return (experts.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }

    /// <param name="x">(B, T, H)</param>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var shape = x.shape;
        var flat = x.reshape(-1, shape[^1]);                                       // (N, H)
        var (experts, weights) = Route(flat);                                       // (N, k)
        var output = zeros_like(flat);                                              // (N, H)
        using var one = 1.ToScalar(); // held for the call: a temporary Scalar may be finalized while native code reads it (TensorMath)
        for (int e = 0; e < _expertArray.Length; e++)
        {
            using var expert = e.ToScalar();
            var chosen = experts.eq(expert);                                        // (N, k)
            var rows = chosen.any(-1).nonzero().squeeze(1);                         // tokens routed to e
            if (rows.shape[0] == 0) continue;
            var w = (weights * chosen).sum(-1).index_select(0, rows).unsqueeze(1); // (n, 1)
            var y = _expertArray[e].forward(flat.index_select(0, rows));            // (n, H)
            output.index_add_(0, rows, y * w.to(y.dtype), one);
        }
        return output.view(shape).MoveToOuterDisposeScope();
    }
}
