using System.Runtime.InteropServices;

namespace TrainingService.Training.Engine;

/// <summary>
/// libtorch allocates every CPU tensor with glibc's malloc, and a training step frees most of what it allocated.
/// With glibc's defaults the step's large buffers (a CIFAR convolution's 7 MB activations at batch 64) keep going
/// back to the kernel and coming back as fresh pages: on a thread's own arena (a Hangfire worker, a serving
/// thread) an emptied 64 MB heap is unmapped and remapped every step, and once anything sets a malloc option the
/// buffers are mmapped one by one. Each fresh page is a fault and a zeroed page: the reference CNN's job took
/// 1 to 7.5 s per epoch with up to a million page faults (30–40 % system time), against 1.0–1.8 s and a few
/// thousand faults with <see cref="KeepFreedMemory"/> (measured side by side, two services, docs/benchmarks.md).
/// <para>
/// Buffers above glibc's largest threshold (the fused LSTM's 64 MB oneDNN workspace) are still mapped per step;
/// glibc backs them with transparent huge pages, a fault per 2 MB instead of per 4 KB, only when the process starts with
/// <c>GLIBC_TUNABLES=glibc.malloc.hugetlb=1</c> (no call can set it later). The Docker image and the scripts set it:
/// the reference LSTM's job epochs went from 1.8–4.8 s to 0.8–1.3 s with it, the CNN's did not change. libtorch's own
/// switch (<c>THP_MEM_ALLOC_ENABLE</c>) gave the LSTM the same but made the CNN about 10 % slower, so it is not used.
/// </para>
/// <para>
/// <see cref="KeepFreedMemory"/> keeps freed memory in the process while it trains; <see cref="Release"/> hands it
/// back when the last run training in the process ends (<see cref="Training"/>). An operator's own
/// <c>GLIBC_TUNABLES</c> thresholds win, and elsewhere than glibc both do nothing.
/// </para>
/// </summary>
public static class NativeHeap
{
    // mallopt parameters (malloc.h).
    private const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3;

    /// <summary>glibc's largest mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX): buffers up to this come from
    /// the heap and are reused; larger ones are mapped for their lifetime, where a fault per page matters less.</summary>
    public const int MmapThresholdBytes = 32 << 20;

    /// <summary>Free memory at the top of a heap kept before it is trimmed: a step's transient buffers.</summary>
    public const int TrimThresholdBytes = 512 << 20;

    /// <summary>Padding kept when a heap grows or shrinks; a thread arena's emptied 64 MB heap is kept rather than
    /// unmapped when the padding covers it.</summary>
    public const int TopPadBytes = 64 << 20;

    /// <summary>The settings <see cref="KeepFreedMemory"/> makes; an operator who sets any of them decides all three.</summary>
    private static readonly string[] OwnTunables = ["glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold", "glibc.malloc.top_pad"];

    /// <summary>Call once at start-up. Returns what it set, or why it left malloc as it is.</summary>
    public static string KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return "left as is (not Linux)";
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { } tunables
            && OwnTunables.Any(t => tunables.Contains(t, StringComparison.Ordinal)))
            return "left as is (GLIBC_TUNABLES sets malloc's thresholds)";
        try
        {
            // Each returns 1 on success. Fixing the thresholds also turns off glibc's own adjustment of them.
            var set = mallopt(MmapThreshold, MmapThresholdBytes) == 1
                & mallopt(TrimThreshold, TrimThresholdBytes) == 1
                & mallopt(TopPad, TopPadBytes) == 1;
            var hugePages = HugePages ? "huge pages for large buffers" : "no huge pages (start with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 for them)";
            return set
                ? $"mmap threshold {MmapThresholdBytes >> 20} MiB, trim threshold {TrimThresholdBytes >> 20} MiB, top pad {TopPadBytes >> 20} MiB; {hugePages}"
                : "partly set (mallopt refused a value)";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return "left as is (not glibc)";
        }
    }

    /// <summary>Whether large mappings get transparent huge pages: glibc was started with them, or the kernel gives them
    /// to every mapping (<c>always</c>).</summary>
    public static bool HugePages =>
        (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { } t
         && System.Text.RegularExpressions.Regex.IsMatch(t, @"(^|:)glibc\.malloc\.hugetlb=[1-9]"))
        || (File.Exists(KernelHugePages) && File.ReadAllText(KernelHugePages).Contains("[always]", StringComparison.Ordinal));

    private const string KernelHugePages = "/sys/kernel/mm/transparent_hugepage/enabled";

    private static int _training;
    private static long _trims;

    /// <summary>How many times the end of the last training run gave memory back.</summary>
    public static long TrimsAtLastRunEnd => Interlocked.Read(ref _trims);

    /// <summary>Marks a run as training until the result is disposed. When the last run training in the process ends,
    /// its freed memory goes back to the kernel (<see cref="Release"/>); while another still trains, nothing is trimmed,
    /// since trimming every arena would hand that run's step buffers back too and it would fault them in again.</summary>
    public static IDisposable Training()
    {
        Interlocked.Increment(ref _training);
        return new TrainingLease();
    }

    private sealed class TrainingLease : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) != 0 || Interlocked.Decrement(ref _training) != 0) return;
            Interlocked.Increment(ref _trims);
            Release();
        }
    }

    /// <summary>Returns the process's free native memory to the kernel (<c>malloc_trim</c>), so that what
    /// <see cref="KeepFreedMemory"/> kept for training steps does not outlive them. True when memory was released.</summary>
    public static bool Release()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return malloc_trim(0) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

#pragma warning disable SYSLIB1054 // as OpenMpWaits: LibraryImport would need AllowUnsafeBlocks for the engine
    [DllImport("libc", EntryPoint = "mallopt")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int mallopt(int param, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int malloc_trim(nuint pad);
#pragma warning restore SYSLIB1054
}
