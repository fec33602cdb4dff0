using System.Net;
using System.Net.Http.Headers;

namespace TrainingService.Api.Tests;

/// <summary>The bound on concurrent uploads per node and the request timeout, over the real app, with request bodies
/// that stall half-way as a slow or hostile client's would.</summary>
public sealed class UploadAndTimeoutLimitTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly List<ServiceFactory> _factories = [];

    public void Dispose()
    {
        foreach (var f in _factories) f.Dispose();
    }

    private ServiceFactory Factory(params (string, string)[] settings)
    {
        var factory = new ServiceFactory(settings);
        _factories.Add(factory);
        return factory;
    }

    [Fact]
    public async Task Uploads_PastMaxConcurrentUploads_Answer429WithRetryAfter_AndTheHeldOneStillCompletes()
    {
        // The submission rate is off: the polling below may send more uploads than a minute's allowance on a slow
        // machine, and the refusal asserted is the upload bound's, not the rate's.
        var factory = Factory(("Requests:MaxConcurrentUploads", "1"), ("Requests:SubmissionsPerMinute", "0"));
        var client = factory.CreateClient();
        var release = new TaskCompletionSource();
        // The test server's own client: the factory's buffers a body whole (to replay it on a redirect) before sending.
        var server = factory.Server.CreateClient();
        async Task<Task<HttpResponseMessage>> HoldAsync() =>
            server.PostAsync("/api/datasets", await StalledContent.SplitAsync(Specs.CsvFile(Specs.SizesCsv), release.Task));
        var held = await HoldAsync();

        // The held upload takes the only slot as soon as its headers arrive; poll until the node says it is full.
        // A poll that got in before the held upload took the slot stores the "tiny" file (once: same bytes, same row);
        // a poll that held the slot when the held upload arrived had that one refused instead, so it is sent again.
        HttpResponseMessage? refused = null;
        var pollsStored = 0;
        var until = DateTime.UtcNow + Patience;
        while (refused is null && DateTime.UtcNow < until)
        {
            if (held.IsCompleted)
            {
                using var early = await held;
                Assert.Equal(HttpStatusCode.TooManyRequests, early.StatusCode);
                held = await HoldAsync();
            }
            var response = await client.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv.Replace("small", "tiny")));
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
            else
            {
                pollsStored = 1;
                await Task.Delay(20);
            }
        }
        Assert.NotNull(refused);
        var body = await refused.JsonAsync();
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Requests:MaxConcurrentUploads", body.GetProperty("limit").GetString());
        Assert.Equal(1, body.GetProperty("value").GetInt32());
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);
        Assert.Equal(pollsStored, factory.Count("dataset_uploads"));

        release.SetResult();
        using var completed = await held.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.Created, completed.StatusCode);
        Assert.Equal(pollsStored + 1, factory.Count("dataset_uploads"));
        // The slot is free again.
        using var next = await client.PostAsync("/api/datasets", Specs.CsvFile(Specs.SizesCsv.Replace("small", "tiny")));
        Assert.Equal(HttpStatusCode.Created, next.StatusCode);
    }

    [Fact]
    public async Task ARequestPastTheTimeout_Answers504ProblemDetails_AndWritesNothing()
    {
        var factory = Factory(("Requests:TimeoutSeconds", "1"));
        var release = new TaskCompletionSource();
        try
        {
            using var response = await factory.Server.CreateClient().PostAsync("/api/runs", await StalledContent.SplitAsync(Specs.Json(Specs.Digits()), release.Task))
                .WaitAsync(Patience);
            var body = await response.JsonAsync();
            Assert.True(response.StatusCode == HttpStatusCode.GatewayTimeout, $"{(int)response.StatusCode}: {body}");
            Assert.Equal("Requests:TimeoutSeconds", body.GetProperty("limit").GetString());
            Assert.Equal(0, factory.CountRows().Runs);
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task TheEventStream_IsNotCutByTheTimeout()
    {
        // Three seconds, not one: the submission itself is an ordinary request and must fit on a loaded machine.
        var factory = Factory(("Requests:TimeoutSeconds", "3"));
        var client = factory.CreateClient();
        var id = (await client.SubmitAsync(Specs.Digits(epochs: 40, batchSize: 2))).Id();
        // The stream lasts as long as the run and ends with it.
        var events = await client.ReadEventsAsync(id, TimeSpan.FromSeconds(180));
        Assert.Contains(events, e => e.Type == "status" && e.Data.GetProperty("status").GetString() == "succeeded");
        // It proves something only if the run outlived the timeout (by the server's own clock).
        var run = await client.GetRunAsync(id);
        var lasted = run.GetProperty("finished_at").GetDateTimeOffset() - run.GetProperty("created_at").GetDateTimeOffset();
        Assert.True(lasted > TimeSpan.FromSeconds(3), $"the run took {lasted}: too short to show the stream outlives the timeout");
    }
}

/// <summary>A request body that sends its first half, then waits for <c>release</c> before the rest: a slow client.</summary>
internal sealed class StalledContent(byte[] head, byte[] tail, Task release) : HttpContent
{
    public static async Task<StalledContent> SplitAsync(HttpContent content, Task release)
    {
        var bytes = await content.ReadAsByteArrayAsync();
        var stalled = new StalledContent(bytes[..(bytes.Length / 2)], bytes[(bytes.Length / 2)..], release);
        stalled.Headers.ContentType = content.Headers.ContentType;
        return stalled;
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(head);
        await stream.FlushAsync();
        await release;
        await stream.WriteAsync(tail);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = head.Length + tail.Length;
        return true;
    }
}
