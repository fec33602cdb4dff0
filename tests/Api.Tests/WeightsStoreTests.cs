using TrainingService.Persistence.Runs;
using TrainingService.Training.Engine;
using static TorchSharp.torch;

namespace TrainingService.Api.Tests;

/// <summary>Weights and checkpoints go in and out of the database as streams, on both providers.</summary>
public class WeightsStoreTests : ServiceTests
{
    public WeightsStoreTests() : this(null)
    {
    }

    protected WeightsStoreTests(PostgresServer? postgres) : base(postgres)
    {
    }

    private Guid NewRun()
    {
        using var db = _factory.NewDbContext();
        var run = new Run { Id = Guid.NewGuid(), Status = RunStatus.Succeeded, CreatedAt = DateTimeOffset.UtcNow, SpecJson = "{}" };
        db.Runs.Add(run);
        db.SaveChanges();
        return run.Id;
    }

    private static byte[] Read(WeightsStream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    [Fact]
    public void Replace_ThenOpenRead_GivesTheBytesEpochAndLength_AndReplacingAgainOverwrites()
    {
        var run = NewRun();
        var first = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        var second = Enumerable.Range(0, 1000).Select(i => (byte)(255 - i)).ToArray();
        using var db = _factory.NewDbContext();

        WeightsStore.Replace(db, run, WeightsKind.Checkpoint, 3, first, DateTimeOffset.UtcNow);
        using (var read = WeightsStore.OpenRead(db, run, WeightsKind.Checkpoint)!)
        {
            Assert.Equal((3, first.LongLength), (read.Epoch, read.Length));
            Assert.Equal(first, Read(read));
        }
        WeightsStore.Replace(db, run, WeightsKind.Checkpoint, 4, second, DateTimeOffset.UtcNow);
        using (var read = WeightsStore.OpenRead(db, run, WeightsKind.Checkpoint)!)
        {
            Assert.Equal((4, second.LongLength), (read.Epoch, read.Length));
            Assert.Equal(second, Read(read));
        }

        Assert.Null(WeightsStore.OpenRead(db, run, WeightsKind.Final));
        Assert.Equal(1, db.RunWeights.Count(w => w.RunId == run));
        // The context works on after the streams were released (its connection was handed back).
        Assert.Equal(1, db.Runs.Count(r => r.Id == run));
    }

    [Fact]
    public void Copy_CopiesInsideTheDatabase_ToAnotherRunAndKind()
    {
        var (from, to) = (NewRun(), NewRun());
        var bytes = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        using var db = _factory.NewDbContext();
        WeightsStore.Replace(db, from, WeightsKind.Final, 7, bytes, DateTimeOffset.UtcNow);

        Assert.Equal(1, WeightsStore.Copy(db, from, WeightsKind.Final, to, WeightsKind.Initial, DateTimeOffset.UtcNow));
        Assert.Equal(0, WeightsStore.Copy(db, from, WeightsKind.Best, to, WeightsKind.Best, DateTimeOffset.UtcNow));

        using var read = WeightsStore.OpenRead(db, to, WeightsKind.Initial)!;
        Assert.Equal(7, read.Epoch);
        Assert.Equal(bytes, Read(read));
    }

    [Fact]
    public void ReadingLargeWeightsIntoTensors_HoldsNoManagedCopyOfThem()
    {
        // 48 MB of weights: read from the database straight into the tensors, the managed heap sees a few buffers.
        using var kernel = randn(3000, 4000);
        var archive = TensorArchive.ToBytes([("kernel", kernel)]);
        var run = NewRun();
        using (var db = _factory.NewDbContext()) WeightsStore.Replace(db, run, WeightsKind.Final, 1, archive, DateTimeOffset.UtcNow);
        archive = null;
        GC.Collect();

        using (var db = _factory.NewDbContext())
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            Dictionary<string, Tensor> read;
            using (var stream = WeightsStore.OpenRead(db, run, WeightsKind.Final)!) read = TensorArchive.Read(stream);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.True(kernel.eq(read["kernel"]).all().item<bool>());
            Assert.True(allocated < 4_000_000, $"{allocated:N0} managed bytes allocated to read {kernel.NumberOfElements * 4:N0} bytes of weights");
            read["kernel"].Dispose();
        }
    }
}

[Collection(PostgresCollection.Name)]
public sealed class WeightsStoreTestsOnPostgres(PostgresServer postgres) : WeightsStoreTests(postgres);
