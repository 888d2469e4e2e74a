// LibtorchProbe: asks libtorch itself which CPU code paths it took — ATen's dispatch capability and MKL's CNR branch.
using System.Runtime.InteropServices;

namespace Compression.Tests.Training;

internal static unsafe class LibtorchProbe
{
    // std::string at::get_cpu_capability() (libstdc++ cxx11 ABI): returned through a hidden pointer to 32 bytes holding
    // {char* data; size_t length; char inline[16]}. The names ("AVX2", "AVX512", "DEFAULT") fit inline, so nothing leaks.
    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at18get_cpu_capabilityB5cxx11Ev")]
    private static extern void GetCpuCapability(byte* result);

    // int mkl_serv_cbwr_get(int what): MKL's mkl_cbwr_get; what = 1 (MKL_CBWR_BRANCH) returns the code branch in use.
    [DllImport("libtorch_cpu", EntryPoint = "mkl_serv_cbwr_get")]
    private static extern int MklCbwrGet(int what);

    /// <summary>The capability ATen dispatches its CPU kernels to: "AVX2", "AVX512" or "DEFAULT".</summary>
    public static string AtenCapability()
    {
        _ = TorchSharp.torch.zeros(1); // loads libtorch
        byte* s = stackalloc byte[32];
        GetCpuCapability(s);
        byte* data = *(byte**)s;
        long length = *(long*)(s + 8);
        if (data != s + 16 || length is < 1 or > 15) throw new InvalidOperationException("at::get_cpu_capability returned an unexpected std::string");
        return System.Text.Encoding.ASCII.GetString(data, (int)length);
    }

    /// <summary>MKL's code branch (MKL_CBWR_AUTO = 2, COMPATIBLE = 3, AVX2 = 10, AVX512 = 12 …).</summary>
    public static int MklBranch()
    {
        _ = TorchSharp.torch.zeros(1);
        return MklCbwrGet(1);
    }
}
