using Microsoft.EntityFrameworkCore;

namespace TrainingService.Persistence.Postgres;

/// <summary>The runs database on PostgreSQL: the same model as <see cref="TrainingDbContext"/>, its own migrations.</summary>
public sealed class PostgresTrainingDbContext(DbContextOptions<PostgresTrainingDbContext> options) : TrainingDbContext(options);
