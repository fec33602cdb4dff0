namespace TrainingService.Api.Infrastructure;

/// <summary>The node cannot run as configured (unknown provider, missing connection string, unreachable database,
/// an unsupported role): <c>Program</c> prints the message and exits before listening or taking a job.</summary>
public sealed class StartupFailure(string message, Exception? inner = null) : Exception(message, inner);
