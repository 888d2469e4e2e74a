// TensorMath: tensor arithmetic that never hands libtorch a temporary TorchSharp Scalar.
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>
/// TorchSharp 0.107 passes a <c>Scalar</c>'s native handle to libtorch without keeping the managed object alive, and a
/// Scalar is finalizable: a temporary one — an implicit conversion (<c>t * 0.5</c>, <c>t.ge(0)</c>) or one TorchSharp makes
/// itself (<c>a + b</c> is <c>a.add(b, 1)</c>, <c>t.square()</c> is <c>t.pow(2)</c>) — can be freed by the finalizer
/// thread while the native op reads it, once any other thread starts a garbage collection. The 8B benchmark died that
/// way after minutes of work ("INTERNAL ASSERT FAILED at c10/core/Scalar.h" in <c>pow</c>). These helpers hold every
/// Scalar for the length of the call; <c>TemporaryScalarTests</c> checks the IL for calls that do not.
/// </summary>
public static class TensorMath
{
    /// <summary>The alpha of a plain addition, alive for the life of the process.</summary>
    private static readonly Scalar One = 1.ToScalar();

    /// <summary>a + b.</summary>
    public static Tensor Plus(this Tensor a, Tensor b)
    {
        var result = a.add(b, One);
        GC.KeepAlive(a); GC.KeepAlive(b);
        return result;
    }

    /// <summary>a += b, in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b)
    {
        var result = a.add_(b, One);
        GC.KeepAlive(b);
        return result;
    }

    /// <summary>a², as <c>square()</c>: pow(a, 2) with the exponent held (the same bits forward and backward — a·a would
    /// give the same values but accumulate its gradient as two terms).</summary>
    public static Tensor Squared(this Tensor a) => With(a, 2.ToScalar(), static (t, s) => t.pow(s));

    /// <summary>a · v.</summary>
    public static Tensor Times(this Tensor a, double v) => With(a, v.ToScalar(), static (t, s) => t.mul(s));

    /// <summary>a / v.</summary>
    public static Tensor Over(this Tensor a, double v) => With(a, v.ToScalar(), static (t, s) => t.div(s));

    /// <summary>a += v, in place.</summary>
    public static Tensor PlusScalarInPlace(this Tensor a, double v) => With(a, v.ToScalar(), static (t, s) => t.add_(s, One));

    /// <summary>max(a, v).</summary>
    public static Tensor AtLeast(this Tensor a, double v) => With(a, v.ToScalar(), static (t, s) => t.clamp_min(s));

    /// <summary>a^v.</summary>
    public static Tensor Power(this Tensor a, double v) => With(a, v.ToScalar(), static (t, s) => t.pow(s));

    /// <summary><paramref name="op"/>(a, s), then s disposed: held (and so alive) until op returns. So is a: a Tensor is
    /// finalizable too, and a temporary one (<c>randn(…).Times(std)</c> outside a dispose scope) could otherwise be freed
    /// while libtorch reads it.</summary>
    private static Tensor With(Tensor a, Scalar s, Func<Tensor, Scalar, Tensor> op)
    {
        using (s)
        {
            var result = op(a, s);
            GC.KeepAlive(a);
            return result;
        }
    }
}
