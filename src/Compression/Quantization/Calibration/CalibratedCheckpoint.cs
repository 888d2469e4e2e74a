// CalibratedCheckpoint: a checkpoint whose tensors are a calibrated method's output, computed block by block as a writer
// reads them in file order — the GGUF exporter streams it like any checkpoint, so there is one writer.
using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Compression.Checkpoints;
using Compression.Model;
using Compression.Tokenization;
using static TorchSharp.torch;

namespace Compression.Quantization.Calibration;

/// <summary>
/// The model <paramref name="input"/> holds, quantized with a <see cref="CalibrationRun"/>: reading a tensor of block i
/// runs the calibration up to block i and serves the method's packed bytes as they are (a stored tensor in the chosen
/// format, which the exporter copies without re-quantizing); AWQ's folded norms come from the run too. Tensors the method
/// does not make (embedding, final norm, anything the policy leaves float) are the input's. Tensors must be read in the
/// checkpoint's order (<see cref="LlamaTensorLayout.Expected"/>): when block i+1 is computed, block i is freed, so memory
/// holds one block's output at a time. Owns the run, not the input.
/// </summary>
public sealed unsafe class CalibratedCheckpoint : Checkpoint
{
    private readonly Checkpoint _input;
    private readonly CalibrationRun _run;
    private readonly string _label;
    private readonly Dictionary<string, TensorSpec> _specs;
    private readonly List<MappedFile> _views = [];
    private readonly Dictionary<string, StoredTensor> _served = [];
    private readonly Action<int, TimeSpan>? _blockDone;
    private readonly IDisposable? _owned;
    private CalibratedBlock? _block;
    private bool _headDone;

    /// <param name="label">What the bytes are called in messages ("gptq q4_0").</param>
    /// <param name="blockDone">Told after each block is calibrated, with the time it took (it may throw to stop the run).</param>
    /// <param name="owned">Disposed with the checkpoint, after the run (the loaded model the run reads).</param>
    public CalibratedCheckpoint(Checkpoint input, CalibrationRun run, string label, Action<int, TimeSpan>? blockDone = null, IDisposable? owned = null)
    {
        (_input, _run, _label, _blockDone, _owned) = (input, run, label, blockDone, owned);
        _specs = LlamaTensorLayout.Expected(input.Config).ToDictionary(s => s.Name);
        Tensors = new LazyTensors(this);
    }

    public override string Path => _input.Path;
    public override LlamaConfig Config => _input.Config;
    public override IReadOnlyDictionary<string, StoredTensor> Tensors { get; }
    public override string Kind => _input.Kind;
    public override IReadOnlyList<float>? RopeFrequencyFactors => _input.RopeFrequencyFactors;
    public override TokenizerData? LoadTokenizerData() => _input.LoadTokenizerData();

    /// <summary>The tensor <paramref name="name"/>, computing the blocks up to its own first.</summary>
    private StoredTensor Get(string name)
    {
        var spec = _specs[name];
        if (spec.Layer >= 0) Advance(spec.Layer);
        else if (spec.Role == TensorRole.LmHead && !_headDone)
        {
            while (_run.NextBlock < _run.Blocks) Advance(_run.NextBlock);
            FreeBlock();
            _headDone = true;
            if (_run.QuantizeHead() is { } head)
                using (head) Serve(name, head);
        }
        return _served.TryGetValue(name, out var made) ? made : _input[name];
    }

    private void Advance(int layer)
    {
        if (_block is not null && layer < _block.Index || _block is null && layer < _run.NextBlock || _headDone)
            throw new InvalidOperationException($"{_label}: block {layer} was read after a later block; the tensors of a calibrated run are read in order");
        while (_block is null || _block.Index < layer)
        {
            FreeBlock();
            var watch = Stopwatch.StartNew();
            _block = _run.QuantizeNextBlock();
            _blockDone?.Invoke(_block.Index, watch.Elapsed);
            foreach (var (n, l) in _block.Layers) Serve(n, l);
            foreach (var (n, t) in _block.Norms) Serve(n, t);
        }
    }

    /// <summary>A stored-tensor view of a layer's weight (packed bytes as they are, or a float weight as F32).</summary>
    private void Serve(string name, LinearLayer layer)
    {
        switch (layer)
        {
            case PackedLinear p:
            {
                var w = p.Weight;
                w.AddRef();
                _served[name] = View(name, [w.Rows, w.Cols], w.Format, w.Data, w.ByteLength, new Releaser(w.Release), w.StoredRowOrder);
                break;
            }
            case DenseLinear d:
                Serve(name, d.Weight);
                break;
            default:
                throw new NotSupportedException($"{_label}: {name} is a {layer.GetType().Name}, which has no stored form");
        }
    }

    private void Serve(string name, Tensor weight)
    {
        using var alias = weight.detach();
        var t = alias.to(ScalarType.Float32, CPU, copy: true); // a tensor of its own (weights are contiguous), kept alive by the view
        _served[name] = View(name, t.shape, FormatRegistry.F32, (byte*)TensorPointer.Of(t), t.numel() * 4, t, null);
    }

    private StoredTensor View(string name, long[] shape, TensorFormat format, byte* data, long bytes, IDisposable owner, int[]? rowOrder)
    {
        var file = MappedFile.OverMemory($"{_input.Path} ({_label} output)", data, bytes, owner);
        _views.Add(file);
        return new StoredTensor { Name = name, FileTensorName = name, Shape = shape, Format = format, Source = file, Offset = 0, RowOrder = rowOrder };
    }

    /// <summary>Drops the served views and the current block (each view held its own reference).</summary>
    private void FreeBlock()
    {
        foreach (var v in _views) v.Dispose();
        _views.Clear();
        _served.Clear();
        _block?.Dispose();
        _block = null;
    }

    public override void Dispose()
    {
        FreeBlock();
        _run.Dispose();
        _owned?.Dispose();
    }

    private sealed class Releaser(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    /// <summary>The tensors by name; only lookups are supported (enumerating would compute every block at once).</summary>
    private sealed class LazyTensors(CalibratedCheckpoint owner) : IReadOnlyDictionary<string, StoredTensor>
    {
        public StoredTensor this[string key] => TryGetValue(key, out var t) ? t : throw new KeyNotFoundException(key);
        public IEnumerable<string> Keys => owner._specs.Keys;
        public IEnumerable<StoredTensor> Values => throw Unsupported();
        public int Count => owner._specs.Count;
        public bool ContainsKey(string key) => owner._specs.ContainsKey(key);

        public bool TryGetValue(string key, [MaybeNullWhen(false)] out StoredTensor value)
        {
            value = owner._specs.ContainsKey(key) ? owner.Get(key) : null;
            return value is not null;
        }

        public IEnumerator<KeyValuePair<string, StoredTensor>> GetEnumerator() => throw Unsupported();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        private static NotSupportedException Unsupported() =>
            new("a calibrated checkpoint computes its tensors block by block as they are read by name; it cannot list them all at once");
    }
}
