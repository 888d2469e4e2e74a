// InputStatistics: what calibration records about the inputs of one linear layer — Σ xxᵀ, Σ|x| and the row count.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Quantization.Methods;

/// <summary>
/// Accumulates the second moments (the GPTQ Hessian up to a factor 2: H = Σ xxᵀ / n) and mean absolute value per input
/// channel of the activations a layer sees. Held in float64; an (In, In) matrix per distinct input of a block is the
/// whole memory cost of calibrating that block. Dispose it when the block is done.
/// </summary>
public sealed class InputStatistics : IDisposable
{
    private readonly Tensor _xtx;    // (In, In) float64, Σ xᵀx
    private readonly Tensor _absSum; // (In) float64, Σ |x|

    public InputStatistics(long features)
    {
        Features = features;
        _xtx = zeros([features, features], ScalarType.Float64).DetachFromDisposeScope();
        _absSum = zeros([features], ScalarType.Float64).DetachFromDisposeScope();
    }

    public long Features { get; }

    /// <summary>Activation rows (tokens) seen.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds activations (…, In).</summary>
    public void Add(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x2 = x.detach().reshape(-1, Features).to(ScalarType.Float64, CPU); // (n, In)
        _xtx.addmm_(x2.t(), x2);
        _absSum.PlusInPlace(x2.abs().sum([0])); // sum over rows (a bare 0 would pick the dtype overload)
        Rows += x2.shape[0];
    }

    /// <summary>H = Σ xxᵀ / n as a row-major (In × In) array.</summary>
    public double[] SecondMoments()
    {
        using var scope = NewDisposeScope();
        return _xtx.Over(Math.Max(1, Rows)).contiguous().data<double>().ToArray();
    }

    /// <summary>diag(H): the mean square of each input channel (the importance llama.cpp's imatrix collects).</summary>
    public float[] MeanSquares()
    {
        using var scope = NewDisposeScope();
        return _xtx.diagonal().Over(Math.Max(1, Rows)).to(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    /// <summary>The mean |x| of each input channel (AWQ's activation scale).</summary>
    public float[] MeanAbs()
    {
        using var scope = NewDisposeScope();
        return _absSum.Over(Math.Max(1, Rows)).to(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    /// <summary>Statistics made from a given second-moment matrix (tests, and methods that build H another way).</summary>
    public static InputStatistics FromSecondMoments(double[] h, long features, long rows = 1)
    {
        var s = new InputStatistics(features);
        using var scope = NewDisposeScope();
        var t = tensor(h, [features, features]);
        s._xtx.copy_(t.Times(rows));
        s._absSum.copy_(t.diagonal().sqrt().Times(rows)); // |x| taken as its rms when only H is known
        s.Rows = rows;
        return s;
    }

    public void Dispose()
    {
        _xtx.Dispose();
        _absSum.Dispose();
    }
}
