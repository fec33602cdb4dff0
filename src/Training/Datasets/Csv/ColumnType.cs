using System.Text.Json.Serialization;

namespace TrainingService.Training.Datasets;

/// <summary>What a CSV column holds: numbers, a small set of repeated labels, or free text.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ColumnType>))]
public enum ColumnType
{
    Numeric,
    Categorical,
    Text,
}
