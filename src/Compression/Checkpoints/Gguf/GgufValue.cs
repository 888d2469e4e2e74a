// GgufValue: one typed GGUF metadata value (scalar, string or array), as read from or written to a file.
namespace Compression.Checkpoints.Gguf;

/// <summary>GGUF metadata value types (<c>gguf_type</c> in ggml's gguf.h).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>
/// A metadata value. <see cref="Value"/> holds the matching CLR type: byte, sbyte, ushort, short, uint,
/// int, float, bool, string, ulong, long, double; arrays hold a CLR array of the element type
/// (<c>string[]</c>, <c>int[]</c>, ..., and <c>GgufValue[]</c> for arrays of arrays).
/// </summary>
public sealed class GgufValue
{
    public GgufValueType Type { get; }
    /// <summary>Element type when <see cref="Type"/> is <see cref="GgufValueType.Array"/>.</summary>
    public GgufValueType? ElementType { get; }
    public object Value { get; }

    private GgufValue(GgufValueType type, GgufValueType? elementType, object value)
    {
        Type = type; ElementType = elementType; Value = value;
    }

    public static GgufValue Of(byte v) => new(GgufValueType.UInt8, null, v);
    public static GgufValue Of(sbyte v) => new(GgufValueType.Int8, null, v);
    public static GgufValue Of(ushort v) => new(GgufValueType.UInt16, null, v);
    public static GgufValue Of(short v) => new(GgufValueType.Int16, null, v);
    public static GgufValue Of(uint v) => new(GgufValueType.UInt32, null, v);
    public static GgufValue Of(int v) => new(GgufValueType.Int32, null, v);
    public static GgufValue Of(float v) => new(GgufValueType.Float32, null, v);
    public static GgufValue Of(bool v) => new(GgufValueType.Bool, null, v);
    public static GgufValue Of(string v) => new(GgufValueType.String, null, v ?? throw new ArgumentNullException(nameof(v)));
    public static GgufValue Of(ulong v) => new(GgufValueType.UInt64, null, v);
    public static GgufValue Of(long v) => new(GgufValueType.Int64, null, v);
    public static GgufValue Of(double v) => new(GgufValueType.Float64, null, v);

    /// <summary>An array; <paramref name="items"/> must be a CLR array of the element type (see the class remarks).</summary>
    public static GgufValue Array(GgufValueType elementType, System.Array items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var expected = ClrType(elementType).MakeArrayType();
        if (items.GetType() != expected)
            throw new ArgumentException($"a GGUF array of {elementType} must be given as {expected.Name}, not {items.GetType().Name}");
        if (items is GgufValue[] nested && nested.Any(v => v.Type != GgufValueType.Array))
            throw new ArgumentException("an array of arrays may hold only arrays");
        return new(GgufValueType.Array, elementType, items);
    }

    public static GgufValue Of(string[] v) => Array(GgufValueType.String, v);
    public static GgufValue Of(int[] v) => Array(GgufValueType.Int32, v);
    public static GgufValue Of(uint[] v) => Array(GgufValueType.UInt32, v);
    public static GgufValue Of(float[] v) => Array(GgufValueType.Float32, v);

    /// <summary>Number of elements of an array value (0 for scalars).</summary>
    public int Count => Value is System.Array a ? a.Length : 0;

    /// <summary>The integer value when this is any integer type, else null.</summary>
    public long? AsInt64() => Value switch
    {
        byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v, long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => null,
    };

    /// <summary>Size in bytes of a fixed-size element type; 0 for strings and arrays.</summary>
    public static int FixedSize(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    /// <summary>The CLR type that holds one value of GGUF type <paramref name="t"/>.</summary>
    public static Type ClrType(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 => typeof(byte), GgufValueType.Int8 => typeof(sbyte),
        GgufValueType.UInt16 => typeof(ushort), GgufValueType.Int16 => typeof(short),
        GgufValueType.UInt32 => typeof(uint), GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float), GgufValueType.Bool => typeof(bool),
        GgufValueType.String => typeof(string), GgufValueType.Array => typeof(GgufValue),
        GgufValueType.UInt64 => typeof(ulong), GgufValueType.Int64 => typeof(long),
        GgufValueType.Float64 => typeof(double),
        _ => throw new ArgumentOutOfRangeException(nameof(t), $"unknown GGUF value type {(uint)t}"),
    };

    /// <summary>Type name as shown in messages ("u32", "array[string]").</summary>
    public string TypeName => Type == GgufValueType.Array ? $"array[{ElementType}]" : Type.ToString();

    public override string ToString() => Value switch
    {
        string s => $"\"{s}\"",
        System.Array a => $"{TypeName} of {a.Length}",
        _ => Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
