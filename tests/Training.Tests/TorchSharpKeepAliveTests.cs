using System.Reflection;
using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests;

/// <summary>
/// TorchSharp frees a tensor's or a Scalar's libtorch object in its finalizer and hands libtorch only the raw pointer,
/// so a temporary could be finalized while the native call that reads it was still running. The build rewrites the
/// TorchSharp.dll the app loads to keep those objects reachable until each such method returns
/// (build/TorchSharpKeepAlive.targets). With the package's own copy in the test folder, the collision test below
/// failed in six runs of seven: the test host died (a C++ error from a Scalar read after it was freed, or a segfault),
/// or 11 and 24 of the sums came out wrong without any error. With the rewritten copy it passes.
/// </summary>
public class TorchSharpKeepAliveTests
{
    [Fact]
    public void LoadedTorchSharp_IsTheCopyRewrittenByTheBuild()
    {
        var marks = typeof(Tensor).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>();
        Assert.Contains(marks, m => m.Key == "TrainingService.KeepAlive");
    }

    [Fact]
    public void Temporaries_CollectedWhileTheirNativeCallsRun_AreNotFreedUnderThem()
    {
        using var generator = new Generator(5);
        using var x = randn([512, 512], generator: generator);
        float Compute()
        {
            // The intermediate tensors and the Scalars made from 0.5 and 1 are reachable only from the calls they are
            // passed to.
            using var y = x.mul(0.5).add(1).mm(x).relu().sum();
            return y.item<float>();
        }
        var expected = Compute();
        var stop = 0;
        var collector = new Thread(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        var wrong = new int[2];
        var failures = new Exception?[2];
        try
        {
            var workers = Enumerable.Range(0, 2).Select(w => new Thread(() =>
            {
                try
                {
                    for (var i = 0; i < 800; i++)
                    {
                        var v = Compute();
                        if (Math.Abs(v - expected) > 1e-3 * Math.Abs(expected)) wrong[w]++;
                    }
                }
                catch (Exception e)
                {
                    failures[w] = e; // a freed Scalar read by libtorch surfaces as a C++ error (a segfault ends the host)
                }
            })).ToList();
            workers.ForEach(t => t.Start());
            workers.ForEach(t => t.Join());
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            collector.Join();
        }
        Assert.Equal([null, null], failures);
        Assert.Equal([0, 0], wrong);
    }

    [Fact]
    public void EveryTorchSharpMethod_StillCompiles()
    {
        var failures = new List<string>();
        var compiled = 0;
        foreach (var type in typeof(Tensor).Assembly.GetTypes().Where(t => !t.ContainsGenericParameters))
        {
            const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (method.IsAbstract || method.ContainsGenericParameters || method.GetMethodBody() is null) continue;
                try
                {
                    RuntimeHelpers.PrepareMethod(method.MethodHandle);
                    compiled++;
                }
                catch (InvalidProgramException e)
                {
                    failures.Add($"{type.FullName}.{method.Name}: {e.Message}");
                }
            }
        }
        Assert.Empty(failures);
        Assert.True(compiled > 1000, $"only {compiled} methods compiled");
    }
}
