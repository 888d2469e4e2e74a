// KvCache: preallocated keys and values per layer, so decoding appends without reallocating.
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>Keys/values of every layer for positions [0, Length), capacity fixed at creation.</summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor[] _keys;   // per layer (B, nKv, capacity, hd)
    private readonly Tensor[] _values; // per layer (B, nKv, capacity, hd)

    public KvCache(LlamaConfig config, int capacity, ScalarType dtype, Device device, int batch = 1)
    {
        Capacity = capacity;
        _keys = new Tensor[config.NumLayers];
        _values = new Tensor[config.NumLayers];
        for (int i = 0; i < config.NumLayers; i++)
        {
            _keys[i] = zeros([batch, config.NumKeyValueHeads, capacity, config.HeadDim], dtype, device);
            _values[i] = zeros([batch, config.NumKeyValueHeads, capacity, config.HeadDim], dtype, device);
        }
    }

    public int Capacity { get; }

    /// <summary>Positions already filled (the next token's position).</summary>
    public int Length { get; private set; }

    /// <summary>Writes k, v (B, nKv, T, hd) at [start, start+T) of <paramref name="layer"/> and returns views of [0, start+T).</summary>
    public (Tensor Keys, Tensor Values) Update(int layer, int start, Tensor k, Tensor v)
    {
        long t = k.shape[2];
        if (start + t > Capacity)
            throw new InvalidOperationException($"KV cache full: position {start + t} exceeds its capacity of {Capacity} tokens");
        _keys[layer].narrow(2, start, t).copy_(k);
        _values[layer].narrow(2, start, t).copy_(v);
        return (_keys[layer].narrow(2, 0, start + t), _values[layer].narrow(2, 0, start + t));
    }

    /// <summary>Marks positions [0, length) as valid (called by the model after each forward).</summary>
    public void SetLength(int length) => Length = length;

    /// <summary>Forgets positions from <paramref name="length"/> on (to reuse a shared prefix).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
    }

    public void Dispose()
    {
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
    }
}
