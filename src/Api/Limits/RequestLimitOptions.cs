namespace TrainingService.Api.Limits;

/// <summary><c>Requests</c>: how much callers may ask. The per-principal rates hold for the whole cluster (counted in the
/// shared database, see <see cref="SharedWindowRateLimiter"/>); the upload bound is per node.</summary>
public sealed class RequestLimitOptions
{
    public const string Section = "Requests";

    /// <summary>Longest a request may take before it is answered 504 (event streams, downloads and exports excepted).</summary>
    public double TimeoutSeconds { get; set; } = 120;

    /// <summary>Multipart uploads (CSV, .keras, image predictions) read at once by this node; more answer 429.</summary>
    public int MaxConcurrentUploads { get; set; } = 4;

    /// <summary>Submissions (runs, sweeps, CSV uploads) per principal per minute; 0 turns the limit off.</summary>
    public int SubmissionsPerMinute { get; set; } = 60;

    /// <summary>Prediction requests per principal per minute; 0 turns the limit off. Generous by default (10,000 a
    /// second on average): a serving node answers a few thousand small requests a second, and a team's scoring job
    /// should meet the node's capacity before it meets this; it is there to stop one principal starving the others.</summary>
    public int PredictionsPerMinute { get; set; } = 600_000;
}
