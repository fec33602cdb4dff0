using TrainingService.Training.Initializers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>keras_hub PositionEmbedding (registered as <c>keras_hub&gt;PositionEmbedding</c>): a trained
/// <c>(sequence_length, features)</c> table whose first <c>steps</c> rows are returned, broadcast over the batch. It
/// returns the position embeddings only; add them to the input with Add.</summary>
[KerasName("PositionEmbedding", "keras_hub>PositionEmbedding", "keras_nlp>PositionEmbedding")]
public sealed record PositionEmbedding : Layer
{
    [Range(1)] public required int SequenceLength { get; init; }
    public Initializer Initializer { get; init; } = Initializer.Named("glorot_uniform");

    public override bool KeepsMask => true;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        if (x.Rank < 2) throw Expects("a sequence (steps, features)", x, "put it after an Embedding");
        if (x.Last < 0) throw Expects("a known feature dimension", x);
        if (x[x.Rank - 2] > SequenceLength) throw Expects($"at most sequence_length ({SequenceLength}) steps", x);
        return [x];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) => ((long)SequenceLength * inputs[0].Last, 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) =>
        new Module(Name, Initializer.Create([SequenceLength, inputs[0].Last], context.Rng));

    private sealed class Module : UnaryModule
    {
        private readonly TorchSharp.Modules.Parameter position_embeddings;

        public Module(string name, Tensor table) : base(name)
        {
            position_embeddings = new TorchSharp.Modules.Parameter(table);
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context) =>
            position_embeddings.narrow(0, 0, input.shape[^2]).expand(input.shape);
    }
}
