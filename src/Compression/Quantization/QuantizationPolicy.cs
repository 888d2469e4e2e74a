// QuantizationPolicy: which storage format each tensor of a model gets.
using System.Text.RegularExpressions;
using Compression.Model;

namespace Compression.Quantization;

/// <summary>
/// Decides the format of every tensor. Default: the linear layers of the blocks get <see cref="Format"/>,
/// the token embedding and LM head stay at <see cref="KeepFormat"/> (16-bit) unless asked, norms are
/// never quantized. <see cref="Pure"/> quantizes every 2-D tensor to the one format (llama.cpp's
/// <c>--pure</c>). Overrides (<c>--tensor-type PATTERN=FMT</c>) are regexes searched in the HF and the
/// GGUF name of a tensor; the first match wins. A tensor whose row length the chosen format cannot
/// hold falls back to <see cref="KeepFormat"/>.
/// </summary>
public sealed record QuantizationPolicy
{
    public required TensorFormat Format { get; init; }
    public bool Pure { get; init; }
    public bool QuantizeEmbeddings { get; init; }
    public bool QuantizeLmHead { get; init; }
    /// <summary>Format of the tensors the policy leaves unquantized (2-D ones; norms are always f32).</summary>
    public TensorFormat KeepFormat { get; init; } = FormatRegistry.F16;
    public IReadOnlyList<(Regex Pattern, TensorFormat Format)> Overrides { get; init; } = [];
    /// <summary>Short label for results tables ("default", "pure", "llama.cpp").</summary>
    public string Label { get; init; } = "default";

    /// <summary>The format for tensor <paramref name="spec"/>; <paramref name="ggufName"/> is also matched by overrides.</summary>
    public TensorFormat Choose(TensorSpec spec, string? ggufName = null)
    {
        if (spec.Shape.Length < 2 || spec.IsNorm || spec.Role == TensorRole.Router) return FormatRegistry.F32; // routers as llama-quantize: float
        TensorFormat chosen = KeepFormat;
        bool matched = false;
        foreach (var (pattern, format) in Overrides)
        {
            if (pattern.IsMatch(spec.Name) || (ggufName is not null && pattern.IsMatch(ggufName)))
            {
                chosen = format; matched = true; break;
            }
        }
        if (!matched)
        {
            chosen = spec.Role switch
            {
                _ when Pure => Format,
                TensorRole.Embedding => QuantizeEmbeddings ? Format : KeepFormat,
                TensorRole.LmHead => QuantizeLmHead ? Format : LmHeadFormat ?? KeepFormat,
                _ => Format,
            };
        }
        return chosen.Supports(spec.Shape[^1]) ? chosen : KeepFormat;
    }

    /// <summary>Set by <see cref="LlamaCppDefault"/>: llama.cpp keeps output.weight at Q6_K for 4-bit types.</summary>
    public TensorFormat? LmHeadFormat { get; init; }

    /// <summary>The workbench default for <paramref name="format"/>.</summary>
    public static QuantizationPolicy Default(TensorFormat format) => new() { Format = format };

    /// <summary>llama.cpp's <c>--pure</c>: every 2-D tensor, embeddings and output included, in one format.</summary>
    public static QuantizationPolicy PureOf(TensorFormat format) => new() { Format = format, Pure = true, Label = "pure" };

    /// <summary>
    /// What <c>llama-quantize</c> does without <c>--pure</c> for Q8_0/Q4_0/Q1_0: token_embd in the
    /// format, output.weight at Q6_K for the 4-bit and 1-bit types (Q8_0 keeps it at Q8_0).
    /// </summary>
    public static QuantizationPolicy LlamaCppDefault(TensorFormat format)
    {
        if (format.LlamaCppDefaultGap is { } gap) throw new NotSupportedException($"policy llama.cpp with {format.Name}: {gap}");
        var q6k = FormatRegistry.TryGet("q6_k");
        bool keepOutputHigher = format.NominalBits < 8 && q6k is not null;
        return new()
        {
            Format = format, QuantizeEmbeddings = true, QuantizeLmHead = !keepOutputHigher,
            LmHeadFormat = keepOutputHigher ? q6k : null, Label = "llama.cpp",
        };
    }

    /// <summary>Parses <c>PATTERN=FMT</c> override strings.</summary>
    public static IReadOnlyList<(Regex, TensorFormat)> ParseOverrides(IEnumerable<string> specs) =>
        specs.Select(s =>
        {
            int eq = s.LastIndexOf('=');
            if (eq <= 0 || eq == s.Length - 1) throw new ArgumentException($"--tensor-type '{s}': expected PATTERN=FORMAT");
            Regex pattern;
            try { pattern = new Regex(s[..eq], RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
            catch (ArgumentException e) { throw new ArgumentException($"--tensor-type '{s}': PATTERN '{s[..eq]}' is not a valid regular expression ({e.Message})", e); }
            TensorFormat format;
            try { format = FormatRegistry.Get(s[(eq + 1)..]); }
            catch (ArgumentException e) { throw new ArgumentException($"--tensor-type '{s}': {e.Message}", e); }
            return (pattern, format);
        }).ToList();
}
