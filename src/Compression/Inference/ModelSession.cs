// ModelSession: what every command needs to run a model — open PATH, load the weights (packed where they are
// packed), build the tokenizer, and report what was loaded.
using Compression.Checkpoints;
using Compression.Evaluation;
using Compression.Model;
using Compression.Quantization;
using Compression.Tokenization;
using static TorchSharp.torch;

namespace Compression.Inference;

/// <summary>How to open a model.</summary>
public sealed record ModelSessionOptions
{
    /// <summary>"cpu" (default), "cuda", "cuda:1", ...</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Activation dtype: "f32" (default), "bf16" or "f16".</summary>
    public string DType { get; init; } = "f32";
    /// <summary>
    /// Builds the loader's packed-layer hooks for a device and dtype (the quantization layer supplies it);
    /// null loads every weight dense.
    /// </summary>
    public Func<Device, ScalarType, (Func<StoredTensor, LinearLayer?>? Linear, Func<StoredTensor, TokenEmbedding?>? Embedding)>? PackedLayers { get; init; }
    public IProgress<(int Done, int Total, string Name)>? Progress { get; init; }
    /// <summary>Load weights holding NaN or ±Inf instead of refusing them.</summary>
    public bool AllowNonFinite { get; init; }
}

/// <summary>A loaded model with its tokenizer; dispose to free the weights.</summary>
public sealed class ModelSession : IDisposable
{
    private ModelSession(string path, LlamaModel model, LlamaTokenizer? tokenizer, string kind, long fileBytes, IReadOnlyDictionary<string, int> storedFormats)
    {
        Path = path;
        Model = model;
        Tokenizer = tokenizer;
        Kind = kind;
        FileBytes = fileBytes;
        StoredFormats = storedFormats;
    }

    public string Path { get; }
    public LlamaModel Model { get; private set; }
    public LlamaTokenizer? Tokenizer { get; }
    public string Kind { get; }
    /// <summary>Bytes of the checkpoint's files on disk.</summary>
    public long FileBytes { get; }
    /// <summary>Tensor count per stored format ("q4_0" → 224, "f32" → 65).</summary>
    public IReadOnlyDictionary<string, int> StoredFormats { get; }
    public LlamaConfig Config => Model.Config;

    /// <summary>Display name: the directory or file name.</summary>
    public string Name => System.IO.Path.GetFileName(Path.TrimEnd('/', '\\'));

    /// <summary>The tokenizer, or an error naming the checkpoint when it has none.</summary>
    public LlamaTokenizer RequireTokenizer() => Tokenizer
        ?? throw new InvalidDataException($"{Path}: the checkpoint has no tokenizer (tokenizer.json or tokenizer.ggml.*); pass token ids instead");

    /// <summary>Replaces the model (e.g. by a quantized copy); the old one is disposed.</summary>
    public void ReplaceModel(LlamaModel model)
    {
        if (!ReferenceEquals(model, Model)) Model.Dispose();
        Model = model;
    }

    /// <summary>The model seen through the evaluation interface.</summary>
    public LlamaLanguageModel AsLanguageModel(int? maxContext = null)
    {
        return LlamaLanguageModel.WithTokenizer(Model, RequireTokenizer(), maxContext);
    }

    /// <summary>
    /// Writes the decode layout (<see cref="Kernels.DecodeLayout"/>) of every packed matrix whose format has one, now
    /// instead of on each layer's first decode GEMV — for commands that decode, so that their first token costs what the
    /// others do (at 8B q4_0 the layouts take 7–8 s to write). Returns the layouts' bytes.
    /// </summary>
    public unsafe long WriteDecodeLayouts(IProgress<(int Done, int Total, string Name)>? progress = null)
    {
        var layers = Model.LinearLayers()
            .Where(l => l.Layer is PackedLinear p && p.Format.HasDecodeLayout)
            .Select(l => (l.Name, Layer: (PackedLinear)l.Layer)).ToList();
        long bytes = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            var weight = layers[i].Layer.Weight;
            weight.DecodeLayout();
            bytes += weight.DecodeLayoutBytes;
            progress?.Report((i + 1, layers.Count, layers[i].Name));
        }
        return bytes;
    }

    public static ModelSession Open(string path, ModelSessionOptions? options = null)
    {
        options ??= new ModelSessionOptions();
        var device = ParseDevice(options.Device);
        var dtype = ParseDType(options.DType);
        using var checkpoint = CheckpointOpener.Open(path);
        var tokenizer = checkpoint.CreateTokenizer();
        if (tokenizer is not null && tokenizer.VocabSize > checkpoint.Config.VocabSize)
            throw new InvalidDataException($"{path}: the tokenizer has {tokenizer.VocabSize} tokens but the model's vocab_size is {checkpoint.Config.VocabSize}");
        var hooks = options.PackedLayers?.Invoke(device, dtype);
        var model = ModelLoader.Load(checkpoint, new ModelLoadOptions
        {
            Device = device, DType = dtype, PackedLinear = hooks?.Linear, PackedEmbedding = hooks?.Embedding, Progress = options.Progress,
            AllowNonFinite = options.AllowNonFinite,
        });
        var formats = checkpoint.Tensors.Values.GroupBy(t => t.Format.Name).ToDictionary(g => g.Key, g => g.Count());
        return new ModelSession(checkpoint.Path, model, tokenizer, checkpoint.Kind, CheckpointOpener.FileBytes(path), formats);
    }

    public static Device ParseDevice(string text)
    {
        Device device;
        try { device = new Device(text); }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ArgumentException($"--device '{text}': expected cpu, cuda or cuda:N ({e.Message})", e);
        }
        if (device.type == TorchSharp.DeviceType.CUDA)
        {
            bool available;
            try { available = cuda.is_available(); }
            catch (Exception e) when (e is not OutOfMemoryException) { available = false; }
            if (!available)
                throw new NotSupportedException($"--device {text}: CUDA is not available (this build has the CPU backend, or no GPU/driver is present); use --device cpu");
            if (device.index >= cuda.device_count())
                throw new NotSupportedException($"--device {text}: there are only {cuda.device_count()} CUDA devices");
        }
        else if (device.type != TorchSharp.DeviceType.CPU)
            throw new NotSupportedException($"--device {text}: only cpu and cuda are supported");
        return device;
    }

    public static ScalarType ParseDType(string text) => text.ToLowerInvariant() switch
    {
        "f32" or "fp32" or "float32" => ScalarType.Float32,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        "f16" or "fp16" or "float16" => ScalarType.Float16,
        _ => throw new ArgumentException($"--dtype '{text}': expected f32, bf16 or f16"),
    };

    public void Dispose() => Model.Dispose();
}
