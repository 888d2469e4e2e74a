// LlamaTokenizer: encode/decode over a TokenizerData of any registered kind, reproducing llama.cpp's ids.
using System.Text;

namespace Compression.Tokenization;

/// <summary>
/// The tokenizer of the Llama family and its relatives, for every kind in <see cref="TokenizerKinds"/>: Llama 3 and
/// Qwen byte-level BPE (<see cref="ByteLevelBpeModel"/>), Llama 2 and Mistral SentencePiece BPE
/// (<see cref="SentencePieceBpeModel"/>). This class does what the kinds share, as llama.cpp's
/// <c>llama_vocab::tokenize</c> does: special-token partitioning (user-defined tokens always matched, control and
/// unknown tokens only with <c>parseSpecial</c>), BOS from the data's settings, decoding with skipped specials and
/// streaming of partial UTF-8 (<see cref="StreamingDecoder"/>). Produces llama.cpp's ids.
/// </summary>
public sealed class LlamaTokenizer
{
    private static readonly string[] EndOfGenerationNames =
        ["<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<EOT>"];

    private readonly ITokenModel _model;
    private readonly byte[][] _tokenBytes;                      // id → the bytes it decodes to
    private readonly bool[] _isSpecial;                         // Control / UserDefined / Unknown
    private readonly HashSet<int> _endOfGeneration = [];
    private readonly SpecialTokenMatcher _controlAndUser;       // used when parseSpecial
    private readonly SpecialTokenMatcher _userOnly;             // always used

    /// <summary>True for the token types matched as whole strings before the kind's model sees the text (llama.cpp's special-token cache).</summary>
    internal static bool IsSpecialType(TokenType type) => type is TokenType.Control or TokenType.UserDefined or TokenType.Unknown;

    /// <summary>Builds the tokenizer of <paramref name="data"/>'s kind; the vocabulary must be complete for it (every byte has a token).</summary>
    /// <exception cref="ArgumentException">The vocabulary is inconsistent (see message).</exception>
    public LlamaTokenizer(TokenizerData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Data = data;
        int n = data.Tokens.Count;
        if (data.TokenTypes.Count != n)
            throw new ArgumentException($"TokenTypes has {data.TokenTypes.Count} entries for {n} tokens.", nameof(data));
        if (data.BosId is int b && (b < 0 || b >= n)) throw new ArgumentException($"BOS id {b} is outside the vocabulary of {n}.", nameof(data));
        if (data.EosId is int e && (e < 0 || e >= n)) throw new ArgumentException($"EOS id {e} is outside the vocabulary of {n}.", nameof(data));

        _model = TokenizerKinds.Get(data.Kind).Create(data);
        _tokenBytes = new byte[n][];
        _isSpecial = new bool[n];
        var control = new List<(string, int)>();
        var user = new List<(string, int)>();
        for (int id = 0; id < n; id++)
        {
            string token = data.Tokens[id];
            TokenType type = data.TokenTypes[id];
            if (IsSpecialType(type))
            {
                _isSpecial[id] = true;
                _tokenBytes[id] = Encoding.UTF8.GetBytes(token);
                (type == TokenType.UserDefined ? user : control).Add((token, id));
                if (Array.IndexOf(EndOfGenerationNames, token) >= 0) _endOfGeneration.Add(id);
                continue;
            }
            _tokenBytes[id] = _model.TokenBytes(id);
        }
        if (data.EosId is int eos) _endOfGeneration.Add(eos);
        _controlAndUser = new SpecialTokenMatcher([.. control, .. user]);
        _userOnly = new SpecialTokenMatcher(user);
    }

    /// <summary>The vocabulary this tokenizer was built from.</summary>
    public TokenizerData Data { get; }

    /// <summary>Number of token ids (ordinary and special).</summary>
    public int VocabSize => _tokenBytes.Length;

    /// <summary>Beginning-of-text id, when the vocabulary has one.</summary>
    public int? BosId => Data.BosId;

    /// <summary>End-of-text id, when the vocabulary has one.</summary>
    public int? EosId => Data.EosId;

    /// <summary>True for EOS and the other special tokens that end a turn (e.g. &lt;|eot_id|&gt;, &lt;|eom_id|&gt;), as llama.cpp's EOG set.</summary>
    public bool IsEndOfGeneration(int id) => _endOfGeneration.Contains(id);

    /// <summary>True for control and user-defined (added) tokens.</summary>
    public bool IsSpecial(int id) => (uint)id < (uint)_isSpecial.Length && _isSpecial[id];

    /// <summary>The token's vocabulary entry as written in tokenizer.json / GGUF (byte-level spelling, e.g. "Ġthe"; special tokens verbatim).</summary>
    public string TokenText(int id) => Data.Tokens[CheckId(id)];

    /// <summary>The bytes the token decodes to (the UTF-8 of its text for special tokens).</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) => _tokenBytes[CheckId(id)];

    /// <summary>
    /// Encodes <paramref name="text"/> to ids. <paramref name="addBos"/> null follows <see cref="TokenizerData.AddBos"/>
    /// (BOS is only ever added when the vocabulary has one).
    /// Special-token strings (e.g. "&lt;|eot_id|&gt;") inside the text are ordinary text unless
    /// <paramref name="parseSpecial"/> is true; user-defined added tokens always match, as in llama.cpp.
    /// </summary>
    public int[] Encode(string text, bool? addBos = null, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if ((addBos ?? Data.AddBos) && BosId is int bos) ids.Add(bos);
        SpecialTokenMatcher matcher = parseSpecial ? _controlAndUser : _userOnly;
        int pos = 0;
        bool atStart = true; // at the start or right after a special token (SentencePiece prepends a space there)
        while (pos < text.Length)
        {
            (int at, int length, int id) = matcher.FindNext(text, pos);
            if (at > pos)
            {
                ReadOnlySpan<char> ordinary = text.AsSpan(pos, at - pos);
                if (Data.NormalizeNfc) ordinary = ordinary.ToString().Normalize(NormalizationForm.FormC);
                _model.Encode(ordinary, atStart, ids);
                atStart = false;
            }
            if (length == 0) break;
            ids.Add(id);
            atStart = true;
            pos = at + length;
        }
        return [.. ids];
    }

    /// <summary>
    /// Decodes ids to text; invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD.
    /// <paramref name="skipSpecial"/> leaves out control, user-defined and unknown tokens. A SentencePiece vocabulary
    /// with a space prefix drops one leading space of the result (Hugging Face's decoder does; text that starts
    /// with a special token keeps it, e.g. "&lt;s&gt; Hello").
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids) AppendBytes(id, skipSpecial, bytes);
        // SentencePiece: drop the space the encoder put before the text (Hugging Face's Strip decoder after Fuse).
        int skip = _model.StripsLeadingSpace && bytes.Count > 0 && bytes[0] == (byte)' ' ? 1 : 0;
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)[skip..]);
    }

    /// <summary>
    /// A decoder that takes ids one at a time and returns only complete characters. It decodes a continuation, so
    /// unlike <see cref="Decode"/> it keeps a SentencePiece token's leading space (as llama.cpp's token_to_piece).
    /// </summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecial = false) => new(this, skipSpecial);

    internal void AppendBytes(int id, bool skipSpecial, List<byte> destination)
    {
        CheckId(id);
        if (skipSpecial && _isSpecial[id]) return;
        destination.AddRange(_tokenBytes[id]);
    }

    private int CheckId(int id) =>
        (uint)id < (uint)_tokenBytes.Length ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside the vocabulary of {_tokenBytes.Length}.");
}
