using TrainingService.Training.Initializers;
using TrainingService.Training.Regularizers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>Keras Embedding: integer indices to dense vectors, initialised U(±0.05). With <c>mask_zero</c>, index 0 is
/// padding and downstream recurrent layers skip it.</summary>
public sealed record Embedding : Layer
{
    [Range(1)] public required int InputDim { get; init; }
    [Range(1)] public required int OutputDim { get; init; }
    public Initializer EmbeddingsInitializer { get; init; } = Initializer.Named("uniform");
    public Regularizer? EmbeddingsRegularizer { get; init; }
    public Regularizer? ActivityRegularizer { get; init; }
    public System.Text.Json.JsonElement? EmbeddingsConstraint { get; init; }
    public bool MaskZero { get; init; }
    /// <summary>Keras 2 wrote it; the input shape already says it.</summary>
    public int? InputLength { get; init; }

    public override bool TakesIndices => true;

    public override IEnumerable<SpecError> Validate(string path) => Constraints.RejectSet(path, ("embeddings_constraint", EmbeddingsConstraint));

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        if (InputLength is { } n && inputs[0].Rank == 1 && inputs[0][0] != n)
            throw Expects($"sequences of input_length {n}", inputs[0]);
        return [new Shape([.. inputs[0].Dims, OutputDim])];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) => ((long)InputDim * OutputDim, 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new EmbeddingModule(this, context);

    private sealed class EmbeddingModule : UnaryModule
    {
        private readonly TorchSharp.Modules.Parameter embeddings;
        private readonly Embedding _e;

        public EmbeddingModule(Embedding e, BuildContext context) : base(e.Name)
        {
            _e = e;
            embeddings = new TorchSharp.Modules.Parameter(e.EmbeddingsInitializer.Create([e.InputDim, e.OutputDim], context.Rng));
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var indices = input.dtype == ScalarType.Int64 ? input : input.to(ScalarType.Int64);
            // An out-of-range index is a data error, reported as such rather than as a native crash.
            var (min, max) = (indices.min().item<long>(), indices.max().item<long>());
            if (min < 0 || max >= _e.InputDim)
                throw new InvalidDataException($"Embedding '{_e.Name}' got index {(min < 0 ? min : max)}; indices must be in [0, {_e.InputDim}) (input_dim {_e.InputDim}).");
            if (_e.MaskZero) context.OutputMask = indices.ne(0);
            var y = embeddings.index_select(0, indices.reshape(-1)).reshape([.. indices.shape, _e.OutputDim]);
            AddActivityPenalty(y, _e.ActivityRegularizer, context);
            return y;
        }

        public override IEnumerable<Tensor> Penalties()
        {
            if (_e.EmbeddingsRegularizer is not null) yield return _e.EmbeddingsRegularizer.Penalty(embeddings);
        }
    }
}
