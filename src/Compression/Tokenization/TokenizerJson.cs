// TokenizerJson: reads and writes Hugging Face tokenizer.json (+ tokenizer_config.json) of every kind in TokenizerKinds.
using System.Text;
using System.Text.Json;

namespace Compression.Tokenization;

/// <summary>
/// Hugging Face <c>tokenizer.json</c> of a BPE model: byte-level as Llama 3 and Qwen release it (Split regex of a
/// registered <see cref="PreTokenizers"/> row + ByteLevel, Qwen's NFC normalizer), or with <c>byte_fallback</c> as
/// Llama 2 and Mistral do (▁ normalizer or Metaspace); with <c>tokenizer_config.json</c> beside it when present
/// (<c>add_bos_token</c>, <c>bos_token</c>, <c>eos_token</c>).
/// </summary>
public static class TokenizerJson
{
    /// <summary>The companion file read and written beside tokenizer.json.</summary>
    public const string ConfigFileName = "tokenizer_config.json";

    private const long MaxFileBytes = 512L << 20;

    /// <summary>Reads a tokenizer.json (and tokenizer_config.json in the same folder, if any).</summary>
    /// <exception cref="InvalidDataException">The file is malformed or of an unsupported kind (the message names the file and the supported ones).</exception>
    public static TokenizerData Load(string tokenizerJsonPath)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        TokenizerData data;
        try
        {
            using var doc = ParseFile(tokenizerJsonPath);
            data = TokenizerJsonReader.Read(doc.RootElement);
        }
        catch (FormatException ex) { throw Bad(tokenizerJsonPath, ex.Message, ex); }
        catch (JsonException ex) { throw Bad(tokenizerJsonPath, "not valid JSON: " + ex.Message, ex); }
        catch (InvalidOperationException ex) { throw Bad(tokenizerJsonPath, "unexpected JSON value kind: " + ex.Message, ex); }

        string configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, ConfigFileName);
        if (!File.Exists(configPath)) return data;
        try
        {
            using var config = ParseFile(configPath);
            return TokenizerJsonReader.ApplyConfig(data, config.RootElement);
        }
        catch (FormatException ex) { throw Bad(configPath, ex.Message, ex); }
        catch (JsonException ex) { throw Bad(configPath, "not valid JSON: " + ex.Message, ex); }
        catch (InvalidOperationException ex) { throw Bad(configPath, "unexpected JSON value kind: " + ex.Message, ex); }
    }

    /// <summary>
    /// Writes <paramref name="data"/> as a tokenizer.json in its kind's layout at <paramref name="path"/> and a
    /// tokenizer_config.json beside it (BOS/EOS names, add_bos_token), each atomically (temp file, then rename).
    /// <see cref="Load"/> reads them back to an equal <see cref="TokenizerData"/> (token types Normal/Control/UserDefined,
    /// and Unknown/Byte for SentencePiece), except that a SentencePiece vocabulary's scores come back as merges.
    /// </summary>
    public static void Save(TokenizerData data, string path)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        string configPath = Path.Combine(Path.GetDirectoryName(full)!, ConfigFileName);
        WriteAtomically(full, stream => TokenizerJsonWriter.WriteTokenizer(data, stream));
        WriteAtomically(configPath, stream => TokenizerJsonWriter.WriteConfig(data, stream));
    }

    private static JsonDocument ParseFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        Compression.IO.InputFile.CheckReadable(path, MaxFileBytes, "a tokenizer JSON file"); // never opens a pipe
        using var stream = File.OpenRead(path);
        // Llama 3's tokenizer.json is ~9 MB; refuse to parse something absurd into memory.
        if (stream.Length > MaxFileBytes) throw new InvalidDataException($"{path}: {stream.Length} bytes is too large for a tokenizer file (limit {MaxFileBytes})");
        return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 64 });
    }

    private static InvalidDataException Bad(string path, string problem, Exception inner) =>
        new($"{path}: {problem.ReplaceLineEndings(" ")}", inner); // JSON errors quote the text around them, newlines included

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    internal static readonly Encoding Utf8NoBom = new UTF8Encoding(false);
}
