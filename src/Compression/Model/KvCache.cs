// KvCache: preallocated keys and values per layer, so decoding appends without reallocating; for a sliding-window
// model a rolling buffer of window slots (position p in slot p mod window), so memory stops growing at the window.
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>Keys/values of every layer for positions [0, Length) (the last <see cref="Slots"/> of them when rolling).</summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor[] _keys;   // per layer (B, nKv, slots, hd)
    private readonly Tensor[] _values; // per layer (B, nKv, slots, hd)

    /// <param name="capacity">Most positions the cache will hold a sequence up to.</param>
    public KvCache(LlamaConfig config, int capacity, ScalarType dtype, Device device, int batch = 1)
    {
        Capacity = capacity;
        Window = config.AttentionWindow;
        Slots = Window is int w ? Math.Min(capacity, w) : capacity;
        _keys = new Tensor[config.NumLayers];
        _values = new Tensor[config.NumLayers];
        for (int i = 0; i < config.NumLayers; i++)
        {
            _keys[i] = zeros([batch, config.NumKeyValueHeads, Slots, config.HeadDim], dtype, device);
            _values[i] = zeros([batch, config.NumKeyValueHeads, Slots, config.HeadDim], dtype, device);
        }
    }

    public int Capacity { get; }
    /// <summary>Sequences the cache holds side by side.</summary>
    public int Batch => (int)_keys[0].shape[0];
    /// <summary>Element type of the stored keys and values.</summary>
    public ScalarType DType => _keys[0].dtype;
    /// <summary>The attention window when this is a rolling cache, else null.</summary>
    public int? Window { get; }
    /// <summary>Positions stored at once: the capacity, or the window when that is smaller.</summary>
    public int Slots { get; }

    /// <summary>Positions already filled (the next token's position).</summary>
    public int Length { get; private set; }

    /// <summary>Writes k, v (B, nKv, T, hd) at [start, start+T) of <paramref name="layer"/> and returns views of [0, start+T).</summary>
    public (Tensor Keys, Tensor Values) Update(int layer, int start, Tensor k, Tensor v)
    {
        long t = k.shape[2];
        CheckCapacity(start, t);
        if (start + t > Slots)
            throw new InvalidOperationException($"positions up to {start + t} do not fit the {Slots} slots of the rolling cache (use UpdateWindow)");
        _keys[layer].narrow(2, start, t).copy_(k);
        _values[layer].narrow(2, start, t).copy_(v);
        return (_keys[layer].narrow(2, 0, start + t), _values[layer].narrow(2, 0, start + t));
    }

    /// <summary>
    /// The keys and values of <paramref name="layer"/> as raw float32 memory, (1, nKv, <see cref="Slots"/>, hd) each, for a
    /// caller that writes position <paramref name="start"/> itself (<see cref="DecodeStep"/>); checks that it fits.
    /// </summary>
    internal unsafe void Pointers(int layer, int start, out float* keys, out float* values)
    {
        CheckCapacity(start, 1);
        if (start + 1 > Slots || DType != ScalarType.Float32)
            throw new InvalidOperationException($"position {start} does not fit the {Slots} float32 slots of this cache");
        keys = (float*)Compression.Quantization.TensorPointer.Of(_keys[layer]);
        values = (float*)Compression.Quantization.TensorPointer.Of(_values[layer]);
    }

    /// <summary>
    /// Rolling cache, one token at position <paramref name="start"/> ≥ window−1: writes it over the position a window
    /// back and returns every slot — exactly the window the token attends to (in slot order; attention needs no order).
    /// </summary>
    public (Tensor Keys, Tensor Values) AppendRolling(int layer, int start, Tensor k, Tensor v)
    {
        int w = Window ?? throw new InvalidOperationException("not a rolling cache");
        CheckCapacity(start, 1);
        if (k.shape[2] != 1 || start < w - 1 || Slots != w) throw new InvalidOperationException("AppendRolling takes one token once the window is full");
        _keys[layer].narrow(2, start % w, 1).copy_(k);
        _values[layer].narrow(2, start % w, 1).copy_(v);
        return (_keys[layer], _values[layer]);
    }

    /// <summary>
    /// Rolling cache, several tokens: returns the keys/values of positions [first, start+T) in position order — the
    /// cached ones still inside the window of position <paramref name="start"/>, then the new ones — and stores the
    /// last window of the new tokens.
    /// </summary>
    public (Tensor Keys, Tensor Values, int First) UpdateWindow(int layer, int start, Tensor k, Tensor v)
    {
        int w = Window ?? throw new InvalidOperationException("not a rolling cache");
        long t = k.shape[2];
        CheckCapacity(start, t);
        int prior = Math.Min(start, w - 1), first = start - prior;
        Tensor keys = k, values = v;
        if (prior > 0)
        {
            var slots = tensor(Enumerable.Range(first, prior).Select(p => (long)(p % Slots)).ToArray(), device: k.device);
            keys = cat([_keys[layer].index_select(2, slots), k], 2);   // (B, nKv, prior+T, hd)
            values = cat([_values[layer].index_select(2, slots), v], 2);
        }
        for (long i = Math.Max(0, t - Slots); i < t; i++) // only the last `Slots` positions survive
        {
            long slot = (start + i) % Slots;
            _keys[layer].narrow(2, slot, 1).copy_(k.narrow(2, i, 1));
            _values[layer].narrow(2, slot, 1).copy_(v.narrow(2, i, 1));
        }
        return (keys, values, first);
    }

    private void CheckCapacity(int start, long t)
    {
        if (start + t > Capacity)
            throw new InvalidOperationException($"KV cache full: position {start + t} exceeds its capacity of {Capacity} tokens");
    }

    /// <summary>Marks positions [0, length) as valid (called by the model after each forward).</summary>
    public void SetLength(int length) => Length = length;

    /// <summary>Forgets positions from <paramref name="length"/> on (to reuse a shared prefix).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length) throw new ArgumentOutOfRangeException(nameof(length));
        // A rolling buffer has overwritten what a window back from `length` needs once more than Slots positions were stored.
        if (length > 0 && length < Length && Length > Slots)
            throw new InvalidOperationException($"cannot rewind a rolling cache of {Slots} slots from position {Length} to {length}");
        Length = length;
    }

    public void Dispose()
    {
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
    }
}
