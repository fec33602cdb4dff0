using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace TrainingService.Training.Engine;

/// <summary>
/// Sets the intra-op thread count of the calling thread only. TorchSharp's <c>set_num_threads</c> is libtorch's
/// <c>at::set_num_threads</c>, which besides the calling thread's OpenMP count sets MKL's process-wide count, rebuilds
/// the process's shared pthreadpool (XNNPACK kernels use it) and clears oneDNN's primitive cache. A thread trial
/// switches counts many times per run while other threads train and serve, and rebuilding what another thread is
/// using is not safe. (A test host that died with a thread-pool thread jumping into freed memory was first blamed on
/// this; the same crash came back later and was TorchSharp objects finalized during their native calls, see
/// build/TorchSharpKeepAlive.targets. Switching per thread stays: it touches nothing another thread uses.)
/// libtorch's own parallel loops and oneDNN take the calling thread's OpenMP count (<c>omp_set_num_threads</c> is
/// per thread) and MKL has a per-thread count (<c>MKL_Set_Num_Threads_Local</c>, the C entry point; the lower-case
/// name is the Fortran one, which takes a pointer), so those two are set instead, found through libtorch_cpu and the
/// libgomp it depends on. Where they are not found, it falls back to <c>set_num_threads</c>.
/// </summary>
public static class IntraOpThreads
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void OmpSetNumThreads(int threads);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MklSetNumThreadsLocal(int threads);

    private static readonly Lazy<(OmpSetNumThreads? Omp, MklSetNumThreadsLocal? Mkl)> Setters = new(Find);

    /// <summary>Whether the per-thread setters were found (else <see cref="Set"/> is libtorch's process-wide one).</summary>
    public static bool PerThread => Setters.Value is { Omp: not null, Mkl: not null };

    public static void Set(int threads)
    {
        if (Setters.Value is not { Omp: { } omp, Mkl: { } mkl })
        {
            set_num_threads(threads);
            return;
        }
        // libtorch initialises each thread's count on its first parallel call (at::set_num_threads with the process's
        // count): that must have happened before this thread's own count is set, or it would overwrite it.
        _ = get_num_threads();
        omp(threads);
        mkl(threads);
    }

    private static (OmpSetNumThreads?, MklSetNumThreadsLocal?) Find()
    {
        _ = get_num_threads(); // libtorch is loaded from here on
        // Already loaded by TorchSharp: dlopen by its soname returns that copy, and dlsym on it searches its
        // dependencies too (the libgomp it ships).
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var libtorch)) return (null, null);
        var omp = NativeLibrary.TryGetExport(libtorch, "omp_set_num_threads", out var o)
            ? Marshal.GetDelegateForFunctionPointer<OmpSetNumThreads>(o) : null;
        var mkl = NativeLibrary.TryGetExport(libtorch, "MKL_Set_Num_Threads_Local", out var m)
            ? Marshal.GetDelegateForFunctionPointer<MklSetNumThreadsLocal>(m) : null;
        return (omp, mkl);
    }
}
