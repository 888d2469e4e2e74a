// DecodeStep: one decoded token through every decoder layer on raw buffers — RMSNorm, RoPE, attention over the KV cache
// and SwiGLU in C#, the projections through the packed kernels — instead of ~90 libtorch calls per layer.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Compression.Kernels;
using Compression.Quantization;
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>
/// A decode step spends most of its time in the weight GEMVs, but each layer also makes about ninety small libtorch calls
/// (norms, views, RoPE, the cache update, attention, SiLU, residual adds), each a P/Invoke, a tensor handle and
/// dispose-scope bookkeeping: at 8B that was ~17 ms per token on top of q1_0's ~52 ms of GEMVs, while the other core
/// waited. This runs the same layer maths for one token (batch 1) straight on the activations' memory and the KV
/// cache's, with the projections through <see cref="PackedLinear.Multiply"/> (the kernels the libtorch path calls) and
/// attention split over heads with <see cref="RowParallel"/>. It applies to dense Llama-shaped models whose
/// projections are packed or float32 (run by the f32 GEMV) and whose activations, norms and cache are float32 — no sliding window, no per-head
/// q/k norms, no experts, no input observers, no gradients; anything else takes the libtorch path.
/// The results are those of the libtorch path up to float rounding (sums in another order; exp from .NET's vector
/// math, not Sleef): tested against float64 references and against the libtorch path.
/// <c>COMPRESS_DECODE=torch</c> turns it off.
/// </summary>
internal sealed unsafe class DecodeStep : IDisposable
{
    /// <summary>
    /// Positions × head_dim from which a step's attention runs its KV heads over the cores (~8K multiply-adds per query
    /// head: 64 positions at head_dim 128). From 512 positions instead, 8B q1_0 decoding at 320–384 positions ran
    /// 16.5–18.3 against 17.7–19.1 tok/s (three alternations): the other core idled through every layer's attention.
    /// Each KV head's arithmetic is the same either way. Tests set it to 0 to force the split on a small model.
    /// </summary>
    internal static int ParallelAttentionFrom = 1 << 13;

    public const string EnvironmentVariable = "COMPRESS_DECODE";

    /// <summary>Whether one-token steps take this path (<c>COMPRESS_DECODE=torch</c>: no); tests switch it per call.</summary>
    internal static bool Enabled
    {
        get => _enabled ??= Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));
        set => _enabled = value;
    }

    private static bool? _enabled;

    internal static bool Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "fused" or "on" => true,
        "torch" or "off" => false,
        var v => throw new ArgumentException($"{EnvironmentVariable}={v}: expected fused or torch"),
    };

    private sealed record Layer(RmsNorm InputNorm, RmsNorm PostNorm, LinearLayer Q, LinearLayer K, LinearLayer V, LinearLayer O,
        LinearLayer Gate, LinearLayer Up, LinearLayer Down)
    {
        public LinearLayer[] Projections { get; } = [Q, K, V, O, Gate, Up, Down];
    }

    /// <summary>Projections the step can run on raw buffers: packed ones, and float32 dense ones on the CPU.</summary>
    private static bool Supported(LinearLayer l) =>
        l is PackedLinear || l is DenseLinear { Weight: var w } && w.dtype == ScalarType.Float32 && w.device_type == TorchSharp.DeviceType.CPU && w.is_contiguous();

    /// <summary>y = W·x for one token, through the same kernels the libtorch path's forward calls.</summary>
    private static void Multiply(LinearLayer l, float* x, float* y)
    {
        if (l is PackedLinear p) { p.Multiply(x, 1, y); return; }
        var w = ((DenseLinear)l).Weight;
        int rows = (int)l.OutFeatures, cols = (int)l.InFeatures;
        FloatKernels.GemvF32(FormatRegistry.F32, new ReadOnlySpan<byte>(TensorPointer.Of(w), checked(rows * cols * sizeof(float))), rows, cols,
            new ReadOnlySpan<float>(x, cols), new Span<float>(y, rows));
    }

    private readonly Layer[] _layers;
    private readonly int _hidden, _heads, _kvHeads, _headDim, _intermediate;
    private readonly float _eps;
    private float* _scratch;
    private long _scratchFloats;
    private bool _disposed;

    private DecodeStep(LlamaConfig c, Layer[] layers)
    {
        (_layers, _hidden, _heads, _kvHeads, _headDim, _intermediate) = (layers, c.HiddenSize, c.NumHeads, c.NumKeyValueHeads, c.HeadDim, c.IntermediateSize);
        _eps = (float)layers[0].InputNorm.Eps;
    }

    /// <summary>The step for <paramref name="model"/>, or null when its shape needs the libtorch path.</summary>
    public static DecodeStep? TryCreate(LlamaModel model)
    {
        var c = model.Config;
        if (model.DType != ScalarType.Float32 || model.Device.type != TorchSharp.DeviceType.CPU || c.AttentionWindow is not null) return null;
        if (c.HeadDim % 2 != 0 || c.NumHeads % c.NumKeyValueHeads != 0) return null;
        var layers = new List<Layer>();
        if (model.Layers.Count == 0) return null;
        double eps = model.Layers[0].InputNorm.Eps; // one eps for every norm: the step keeps one
        // The scratch buffers are sized from the config: every projection must have the shape it implies.
        long h = c.HiddenSize, qn = (long)c.NumHeads * c.HeadDim, kvn = (long)c.NumKeyValueHeads * c.HeadDim, ff = c.IntermediateSize;
        (long In, long Out)[] shapes = [(h, qn), (h, kvn), (h, kvn), (qn, h), (h, ff), (h, ff), (ff, h)];
        foreach (var l in model.Layers)
        {
            if (l.Attention.QueryNorm is not null || l.Mlp is not LlamaMlp mlp) return null;
            var p = l.Attention.NamedProjections().Concat(mlp.NamedProjections()).Select(n => n.Layer).ToArray();
            if (p.Length != shapes.Length || !p.All(Supported)
                || p.Zip(shapes).Any(z => z.First.InFeatures != z.Second.In || z.First.OutFeatures != z.Second.Out)) return null;
            if (new[] { l.InputNorm, l.PostAttentionNorm }.Any(n => n.Weight.dtype != ScalarType.Float32 || !n.Weight.is_contiguous()
                || n.Weight.numel() != c.HiddenSize || n.Eps != eps)) return null;
            layers.Add(new Layer(l.InputNorm, l.PostAttentionNorm, p[0], p[1], p[2], p[3], p[4], p[5], p[6]));
        }
        return new DecodeStep(c, [.. layers]);
    }

    /// <summary>Whether this call can take the step: a float32 cache with room at <paramref name="start"/>, nothing
    /// observing a projection's input, no gradient to record.</summary>
    public bool Accepts(KvCache cache, int start)
    {
        if (cache.Window is not null || cache.Batch != 1 || cache.DType != ScalarType.Float32 || start + 1 > cache.Slots) return false;
        bool grad = is_grad_enabled();
        foreach (var l in _layers)
        {
            if (grad && (l.InputNorm.Weight.requires_grad || l.PostNorm.Weight.requires_grad)) return false;
            foreach (var p in l.Projections)
                if (p.InputObserver is not null || p is DenseLinear d && (!Supported(d) || grad && d.Weight.requires_grad)) return false;
        }
        return true;
    }

    /// <summary>
    /// Runs every layer for the token whose embedding is at <paramref name="h"/> (H floats, updated in place to the last
    /// layer's output), at position <paramref name="start"/>, writing its keys and values into <paramref name="cache"/>.
    /// </summary>
    /// <param name="cos">hd rotary cosines for the position.</param>
    /// <param name="sin">hd rotary sines.</param>
    /// <returns>False, having done nothing, while another thread runs a step of the same model (its scratch is one
    /// buffer): the caller then takes the libtorch path.</returns>
    public bool TryRun(float* h, float* cos, float* sin, KvCache cache, int start)
    {
        if (!Monitor.TryEnter(_gate)) return false;
        try
        {
            Run(h, cos, sin, cache, start);
            return true;
        }
        finally { Monitor.Exit(_gate); }
    }

    private readonly object _gate = new();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per token or layer: no waiting for tier-up
    private void Run(float* h, float* cos, float* sin, KvCache cache, int start)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int hd = _headDim, positions = start + 1;
        long qn = (long)_heads * hd, kvn = (long)_kvHeads * hd;
        // xn | q | k | v | attention output | gate | up | per-head scores
        long need = _hidden + qn + 2 * kvn + qn + 2L * _intermediate + (long)_heads * positions;
        if (need > _scratchFloats)
        {
            NativeMemory.AlignedFree(_scratch);
            _scratchFloats = Math.Max(need, _scratchFloats * 2);
            _scratch = (float*)NativeMemory.AlignedAlloc((nuint)(_scratchFloats * sizeof(float)), 64);
        }
        float* xn = _scratch, q = xn + _hidden, k = q + qn, v = k + kvn, att = v + kvn, gate = att + qn, up = gate + _intermediate,
            scores = up + _intermediate;
        for (int i = 0; i < _layers.Length; i++)
        {
            var l = _layers[i];
            cache.Pointers(i, start, out float* keys, out float* values);
            // Attention: h += o(attn(rope(q(xn)), rope(k(xn)), v(xn))), xn = norm(h).
            RmsNorm(h, (float*)TensorPointer.Of(l.InputNorm.Weight), xn);
            Multiply(l.Q, xn, q);
            Multiply(l.K, xn, k);
            Multiply(l.V, xn, v);
            for (int head = 0; head < _heads; head++) Rope(q + (long)head * hd, cos, sin, hd);
            for (int head = 0; head < _kvHeads; head++)
            {
                Rope(k + (long)head * hd, cos, sin, hd);
                long slot = ((long)head * cache.Slots + start) * hd; // (1, nKv, slots, hd)
                new Span<float>(k + (long)head * hd, hd).CopyTo(new Span<float>(keys + slot, hd));
                new Span<float>(v + (long)head * hd, hd).CopyTo(new Span<float>(values + slot, hd));
            }
            var job = new AttentionJob
            {
                Q = q, Keys = keys, Values = values, Out = att, Scores = scores, HeadDim = hd, Groups = _heads / _kvHeads,
                Slots = cache.Slots, Positions = positions, Scale = 1f / MathF.Sqrt(hd),
            };
            RowParallel.For(_kvHeads, 1, positions * hd >= ParallelAttentionFrom ? 2 : int.MaxValue, &AttendGroups, (nint)(&job));
            Multiply(l.O, att, xn);
            Add(h, xn, _hidden);
            // Feed-forward: h += down(silu(gate(xn)) · up(xn)), xn = norm(h).
            RmsNorm(h, (float*)TensorPointer.Of(l.PostNorm.Weight), xn);
            Multiply(l.Gate, xn, gate);
            Multiply(l.Up, xn, up);
            SiluTimes(gate, up, _intermediate);
            Multiply(l.Down, gate, xn);
            Add(h, xn, _hidden);
        }
    }

    /// <summary>y = x / sqrt(mean(x²) + eps) · w, the mean of squares summed in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per token or layer: no waiting for tier-up
    private void RmsNorm(float* x, float* w, float* y)
    {
        double s = 0;
        for (int i = 0; i < _hidden; i++) s += (double)x[i] * x[i];
        float r = 1f / MathF.Sqrt((float)(s / _hidden) + _eps);
        for (int i = 0; i < _hidden; i++) y[i] = x[i] * r * w[i];
    }

    /// <summary>Rotate-half RoPE in place: x·cos + rotate_half(x)·sin, rotate_half(x) = (−x₂, x₁).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per token or layer: no waiting for tier-up
    private static void Rope(float* x, float* cos, float* sin, int hd)
    {
        int half = hd / 2;
        for (int i = 0; i < half; i++)
        {
            float a = x[i], b = x[i + half];
            x[i] = a * cos[i] - b * sin[i];
            x[i + half] = b * cos[i + half] + a * sin[i + half];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per token or layer: no waiting for tier-up
    private static void Add(float* h, float* d, int n)
    {
        int i = 0;
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
            (Vector256.Load(h + i) + Vector256.Load(d + i)).Store(h + i);
        for (; i < n; i++) h[i] += d[i];
    }

    /// <summary>g = silu(g) · u = g / (1 + e^−g) · u.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per token or layer: no waiting for tier-up
    private static void SiluTimes(float* g, float* u, int n)
    {
        int i = 0;
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
        {
            var x = Vector256.Load(g + i);
            (x / (Vector256<float>.One + Vector256.Exp(-x)) * Vector256.Load(u + i)).Store(g + i);
        }
        for (; i < n; i++) g[i] = g[i] / (1f + MathF.Exp(-g[i])) * u[i];
    }

    private struct AttentionJob
    {
        public float* Q, Keys, Values, Out, Scores;
        public int HeadDim, Groups, Slots, Positions;
        public float Scale;
    }

    /// <summary>
    /// KV heads [first, end), each with the query heads that share it: softmax(q·Kᵀ·scale)·V over positions [0, Positions).
    /// A key or value row is read once for all of its group's query heads (four at Llama 3 8B), not once per head.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // runs once per token or layer: no waiting for tier-up
    private static void AttendGroups(nint p, int first, int end)
    {
        var j = (AttentionJob*)p;
        int hd = j->HeadDim, n = j->Positions, groups = j->Groups;
        var inverse = stackalloc float[groups];
        for (int g = first; g < end; g++)
        {
            float* keys = j->Keys + (long)g * j->Slots * hd, values = j->Values + (long)g * j->Slots * hd;
            int h0 = g * groups;
            for (int t = 0; t < n; t++)
                for (int head = h0; head < h0 + groups; head++)
                    j->Scores[(long)head * n + t] = Dot(j->Q + (long)head * hd, keys + (long)t * hd, hd) * j->Scale;
            for (int head = h0; head < h0 + groups; head++)
            {
                float* s = j->Scores + (long)head * n;
                float max = float.NegativeInfinity;
                for (int t = 0; t < n; t++) max = Math.Max(max, s[t]);
                // e^(s − max) eight at a time; o = Σ e_t·v_t / Σ e_t, the division once at the end.
                var m = Vector256.Create(max);
                var sums = Vector256<float>.Zero;
                int i = 0;
                for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
                {
                    var e = Vector256.Exp(Vector256.Load(s + i) - m);
                    e.Store(s + i);
                    sums += e;
                }
                float sum = Vector256.Sum(sums);
                for (; i < n; i++) sum += s[i] = MathF.Exp(s[i] - max);
                inverse[head - h0] = 1f / sum;
                new Span<float>(j->Out + (long)head * hd, hd).Clear();
            }
            for (int t = 0; t < n; t++)
                for (int head = h0; head < h0 + groups; head++)
                    Axpy(j->Scores[(long)head * n + t], values + (long)t * hd, j->Out + (long)head * hd, hd);
            for (int head = h0; head < h0 + groups; head++)
            {
                float* o = j->Out + (long)head * hd;
                var inv = Vector256.Create(inverse[head - h0]);
                int i = 0;
                for (; i + Vector256<float>.Count <= hd; i += Vector256<float>.Count) (Vector256.Load(o + i) * inv).Store(o + i);
                for (; i < hd; i++) o[i] *= inverse[head - h0];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n)
    {
        // Four independent sums: one chain of dependent adds would make a 128-long dot wait ~4 cycles per 8 values.
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int i = 0;
        for (; i + 4 * Vector256<float>.Count <= n; i += 4 * Vector256<float>.Count)
        {
            a0 += Vector256.Load(a + i) * Vector256.Load(b + i);
            a1 += Vector256.Load(a + i + 8) * Vector256.Load(b + i + 8);
            a2 += Vector256.Load(a + i + 16) * Vector256.Load(b + i + 16);
            a3 += Vector256.Load(a + i + 24) * Vector256.Load(b + i + 24);
        }
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count) a0 += Vector256.Load(a + i) * Vector256.Load(b + i);
        float s = Vector256.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float alpha, float* x, float* y, int n)
    {
        var a = Vector256.Create(alpha);
        int i = 0;
        for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count) (Vector256.Load(y + i) + a * Vector256.Load(x + i)).Store(y + i);
        for (; i < n; i++) y[i] += alpha * x[i];
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            NativeMemory.AlignedFree(_scratch);
            _scratch = null;
        }
    }
}
