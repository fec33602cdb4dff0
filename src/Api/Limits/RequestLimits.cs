using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using TrainingService.Api.Security;

namespace TrainingService.Api.Limits;

/// <summary>
/// Request rates per principal (ASP.NET Core's RateLimiter, a fixed window per owner and policy counted for the whole
/// cluster in the database: <see cref="SharedWindowRateLimiter"/>), a bound on
/// concurrent multipart uploads per node, and a timeout on every request. A refusal is a 429 ProblemDetails naming the
/// limit and its value, with Retry-After.
/// </summary>
public static class RequestLimits
{
    /// <summary>Policy of the endpoints that create something: runs, sweeps, uploads.</summary>
    public const string Submissions = "submissions";

    /// <summary>Policy of the prediction endpoints.</summary>
    public const string Predictions = "predictions";

    private const string Uploads = "uploads";

    /// <summary>The request timeout policy name; SSE streams and downloads use <c>DisableRequestTimeout()</c> instead.</summary>
    public const string Timeout = "default";

    public static WebApplicationBuilder AddRequestLimits(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(RequestLimitOptions.Section);
        builder.Services.Configure<RequestLimitOptions>(section);
        builder.Services.Configure<QuotaOptions>(builder.Configuration.GetSection(QuotaOptions.Section));
        builder.Services.AddScoped<Quotas>();
        var options = section.Get<RequestLimitOptions>() ?? new RequestLimitOptions();

        builder.Services.AddRateLimiter(o =>
        {
            o.AddPolicy(Submissions, context => PerOwner(context, Submissions, options.SubmissionsPerMinute));
            o.AddPolicy(Predictions, context => PerOwner(context, Predictions, options.PredictionsPerMinute));
            // Uploads are bounded per node whoever sends them: memory, not fairness, is what they exhaust.
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => IsUpload(context.Request)
                ? RateLimitPartition.GetConcurrencyLimiter(Uploads, _ => new ConcurrencyLimiterOptions { PermitLimit = Math.Max(1, options.MaxConcurrentUploads), QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter(""));
            o.OnRejected = (context, ct) => RejectAsync(context, options, ct);
        });
        builder.Services.AddSingleton<SharedRateWindows>();

        builder.Services.AddRequestTimeouts(o =>
        {
            o.DefaultPolicy = new RequestTimeoutPolicy
            {
                Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds),
                WriteTimeoutResponse = context => Results.Problem(
                    title: "Request timed out",
                    detail: $"The request took longer than Requests:TimeoutSeconds ({options.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s).",
                    statusCode: StatusCodes.Status504GatewayTimeout,
                    extensions: new Dictionary<string, object?> { ["limit"] = "Requests:TimeoutSeconds", ["value"] = options.TimeoutSeconds }).ExecuteAsync(context),
            };
        });
        return builder;
    }

    /// <summary>After authorization, so the partition is the authenticated owner (and anonymous callers were already refused).</summary>
    public static WebApplication UseRequestLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        app.UseRequestTimeouts();
        return app;
    }

    /// <summary>
    /// Permits a node claims from a shared window at a time: a hundredth of the limit, at least one. Submissions at
    /// their default (60) take one per request, so each one counts exactly; predictions at theirs (600,000) come by
    /// the thousand a second, and a node claiming 6,000 at a time sends the database a few writes a second.
    /// </summary>
    public static int Chunk(int perMinute) => Math.Max(1, perMinute / 100);

    private static RateLimitPartition<string> PerOwner(HttpContext context, string policy, int perMinute) => perMinute <= 0
        ? RateLimitPartition.GetNoLimiter("")
        : RateLimitPartition.Get(context.User.Owner() ?? "", owner => new SharedWindowRateLimiter(
            context.RequestServices.GetRequiredService<SharedRateWindows>(), owner, policy, perMinute, Chunk(perMinute)));

    private static bool IsUpload(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true;

    private static async ValueTask RejectAsync(OnRejectedContext context, RequestLimitOptions options, CancellationToken ct)
    {
        // Fixed windows say when the next permit comes; the upload bound (a concurrency limiter) has no such date,
        // which is also how the two are told apart: only the endpoint policies are windows.
        var windowed = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter);
        var policy = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName;
        var (limit, value, detail) = !windowed
            ? ("Requests:MaxConcurrentUploads", options.MaxConcurrentUploads,
               $"This node is already reading {options.MaxConcurrentUploads} uploads; try again shortly.")
            : policy == Predictions
                ? ("Requests:PredictionsPerMinute", options.PredictionsPerMinute, $"At most {options.PredictionsPerMinute} prediction requests per minute per principal.")
                : ("Requests:SubmissionsPerMinute", options.SubmissionsPerMinute, $"At most {options.SubmissionsPerMinute} submissions per minute per principal.");
        var seconds = windowed ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
        context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await Results.Problem(title: "Too many requests", detail: detail, statusCode: StatusCodes.Status429TooManyRequests,
                extensions: new Dictionary<string, object?> { ["limit"] = limit, ["value"] = value, ["retry_after_seconds"] = seconds })
            .ExecuteAsync(context.HttpContext);
    }
}
