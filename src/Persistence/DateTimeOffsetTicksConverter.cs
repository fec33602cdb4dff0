using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace TrainingService.Persistence;

/// <summary>Stores instants as UTC ticks (an INTEGER column), which SQLite can sort and compare.</summary>
public sealed class DateTimeOffsetTicksConverter() : ValueConverter<DateTimeOffset, long>(
    v => v.UtcTicks,
    v => new DateTimeOffset(v, TimeSpan.Zero));
