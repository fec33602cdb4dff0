using TrainingService.Training.Initializers;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Layers;

/// <summary>keras_hub TokenAndPositionEmbedding (registered as <c>keras_hub&gt;TokenAndPositionEmbedding</c>): token
/// embeddings <c>(vocabulary_size, embedding_dim)</c> plus position embeddings <c>(sequence_length, embedding_dim)</c>,
/// both drawn from <c>embeddings_initializer</c> (Keras's "uniform", ±0.05). <c>tie_weights</c> only matters for
/// keras_hub's reverse projection, which no layer here uses.</summary>
[KerasName("TokenAndPositionEmbedding", "keras_hub>TokenAndPositionEmbedding", "keras_nlp>TokenAndPositionEmbedding")]
public sealed record TokenAndPositionEmbedding : Layer
{
    [Range(1)] public required int VocabularySize { get; init; }
    [Range(1)] public required int SequenceLength { get; init; }
    [Range(1)] public required int EmbeddingDim { get; init; }
    public bool TieWeights { get; init; } = true;
    public Initializer EmbeddingsInitializer { get; init; } = Initializer.Named("uniform");
    public bool MaskZero { get; init; }

    public override bool TakesIndices => true;

    public override Shape[] OutputShapes(Shape[] inputs)
    {
        var x = inputs[0];
        RequireRank(x, 1, "it takes token indices (steps)");
        if (x[0] > SequenceLength) throw Expects($"at most sequence_length ({SequenceLength}) steps", x);
        return [new Shape(x[0], EmbeddingDim)];
    }

    public override (long Trainable, long NonTrainable) CountParameters(Shape[] inputs) =>
        ((long)(VocabularySize + SequenceLength) * EmbeddingDim, 0);

    public override LayerModule Build(Shape[] inputs, BuildContext context) => new Module(this, context);

    private sealed class Module : UnaryModule
    {
        private readonly TorchSharp.Modules.Parameter token_embeddings, position_embeddings;
        private readonly TokenAndPositionEmbedding _c;

        public Module(TokenAndPositionEmbedding c, BuildContext context) : base(c.Name)
        {
            _c = c;
            token_embeddings = new TorchSharp.Modules.Parameter(c.EmbeddingsInitializer.Create([c.VocabularySize, c.EmbeddingDim], context.Rng));
            position_embeddings = new TorchSharp.Modules.Parameter(c.EmbeddingsInitializer.Create([c.SequenceLength, c.EmbeddingDim], context.Rng));
            RegisterComponents();
        }

        public override Tensor Forward(Tensor input, ForwardContext context)
        {
            var indices = input.dtype == ScalarType.Int64 ? input : input.to(ScalarType.Int64);
            var (min, max) = (indices.min().item<long>(), indices.max().item<long>());
            if (min < 0 || max >= _c.VocabularySize)
                throw new InvalidDataException($"TokenAndPositionEmbedding '{_c.Name}' got index {(min < 0 ? min : max)}; indices must be in [0, {_c.VocabularySize}) (vocabulary_size {_c.VocabularySize}).");
            if (_c.MaskZero) context.OutputMask = indices.ne(0);
            var tokens = token_embeddings.index_select(0, indices.reshape(-1)).reshape([.. indices.shape, _c.EmbeddingDim]);
            return tokens + position_embeddings.narrow(0, 0, indices.shape[1]);
        }
    }
}
