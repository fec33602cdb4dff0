namespace TrainingService.Persistence.Security;

/// <summary>A row that belongs to a principal (a team or user): only its owner and admins see it.</summary>
public interface IOwned
{
    /// <summary>Who created it; null on rows from before ownership existed (only admins see those).</summary>
    string? Owner { get; set; }
}
