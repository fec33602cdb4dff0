using System.Runtime.InteropServices;

namespace TrainingService.Training.Engine;

/// <summary>
/// libtorch's CPU kernels parallelise with the libgomp it ships, whose idle threads spin-wait at the end of every
/// parallel region (GOMP_SPINCOUNT, 300,000 iterations by default) before they sleep. When the cores are shared —
/// the web server, the load generator, another run, other processes — a spinning thread holds a core the thread it
/// waits for needs, and every one of the thousands of small parallel regions of an epoch pays a scheduler time
/// slice. On the 2-core benchmark machine the MNIST MLP's epoch went from 16 s to 0.4 s per 6,000 examples with
/// waiting threads sleeping at once (docs/benchmarks.md). <see cref="SleepWhenIdle"/> sets that before libtorch
/// loads, unless the environment already chose (GOMP_SPINCOUNT or OMP_WAIT_POLICY).
/// </summary>
public static class OpenMpWaits
{
    public const string SpinCount = "GOMP_SPINCOUNT";

    /// <summary>Call before the first <c>torch</c> call of the process (libgomp reads its environment when it loads).
    /// Returns the GOMP_SPINCOUNT in effect, or null when OMP_WAIT_POLICY was set instead.</summary>
    public static string? SleepWhenIdle()
    {
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is { Length: > 0 }) return null;
        if (Environment.GetEnvironmentVariable(SpinCount) is { Length: > 0 } chosen) return chosen;
        // .NET keeps its own copy of the environment on Unix: the native one (what libgomp reads) needs setenv.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = setenv(SpinCount, "0", 1);
        Environment.SetEnvironmentVariable(SpinCount, "0"); // and child processes inherit it
        return "0";
    }

    // DllImport, not LibraryImport: the generated stub would need AllowUnsafeBlocks for the whole engine.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "setenv")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
#pragma warning restore SYSLIB1054
}
