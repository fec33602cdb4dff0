namespace TrainingService.Training.Specs;

/// <summary>The Keras type name of a config record, and older names it is also known by.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class KerasNameAttribute(string name, params string[] aliases) : Attribute
{
    public string Name { get; } = name;
    public string[] Aliases { get; } = aliases;
}

/// <summary>The config key of a property when it is not the snake_case of its name.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class KeyAttribute(string key) : Attribute
{
    public string Key { get; } = key;
}

/// <summary>Not a config key (set by the parser, or derived).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NotConfigAttribute : Attribute;

/// <summary>An integer tuple key (kernel_size, strides …) of this many elements; a single integer is repeated. Without a
/// length the tuple has one element per spatial axis of the record (<see cref="ISpatialConfig.Rank"/>), so a base
/// record can declare the keys once for every rank, as Keras's <c>BaseConv</c> does.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class TupleAttribute(int length) : Attribute
{
    public TupleAttribute() : this(0) { }

    /// <summary>The number of elements; 0 means the record's rank.</summary>
    public int Length { get; } = length;
}

/// <summary>A config with a spatial rank (1 for Conv1D, 2 for Conv2D …) that sizes its rank-long <see cref="TupleAttribute"/> keys.</summary>
public interface ISpatialConfig
{
    int Rank { get; }
}

/// <summary>The accepted values of a string key.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OneOfAttribute(params string[] values) : Attribute
{
    public string[] Values { get; } = values;
}

/// <summary>Numeric bounds of a key (inclusive unless stated).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RangeAttribute(double min, double max = double.MaxValue) : Attribute
{
    public double Min { get; } = min;
    public double Max { get; } = max;
    public bool MinExclusive { get; init; }
    public bool MaxExclusive { get; init; }
}

/// <summary>A string key naming an activation function.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ActivationNameAttribute : Attribute;
