namespace TrainingService.Api.Security;

/// <summary>What a principal may do. Each scope is also the name of the authorization policy that requires it.</summary>
public static class Scopes
{
    public const string RunsRead = "runs:read";
    public const string RunsWrite = "runs:write";
    public const string Predict = "predict";
    public const string DatasetsWrite = "datasets:write";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [RunsRead, RunsWrite, Predict, DatasetsWrite, Admin];

    /// <summary>The claim type scopes are carried in on the authenticated principal.</summary>
    public const string ClaimType = "scope";

    /// <summary>The claim type of the owner (team) a principal acts for.</summary>
    public const string OwnerClaimType = "owner";

    /// <summary>Whether a principal holding <paramref name="held"/> satisfies <paramref name="required"/>: admin
    /// holds every scope, and whoever may submit runs may also read them.</summary>
    public static bool Satisfies(string held, string required) =>
        held == required || held == Admin || (held == RunsWrite && required == RunsRead);

    public static bool IsKnown(string scope) => All.Contains(scope);
}
