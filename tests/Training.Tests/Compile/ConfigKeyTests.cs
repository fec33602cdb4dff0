using TrainingService.Training.Callbacks;
using TrainingService.Training.Losses;
using TrainingService.Training.Metrics;
using TrainingService.Training.Optimizers;
using TrainingService.Training.Specs;

namespace TrainingService.Training.Tests.Compile;

public class ConfigKeyTests
{
    public static TheoryData<Type, string> ExpectedKeys => new()
    {
        { typeof(Adam), "beta_1 beta_2 epsilon amsgrad learning_rate clipnorm global_clipnorm clipvalue weight_decay" },
        { typeof(Sgd), "momentum nesterov learning_rate clipnorm global_clipnorm clipvalue weight_decay" },
        { typeof(RMSprop), "rho momentum epsilon centered learning_rate clipnorm global_clipnorm clipvalue weight_decay" },
        { typeof(Adagrad), "initial_accumulator_value epsilon learning_rate clipnorm global_clipnorm clipvalue weight_decay" },
        { typeof(CosineDecay), "initial_learning_rate decay_steps alpha warmup_target warmup_steps" },
        { typeof(AUC), "num_thresholds curve summation_method multi_label num_labels from_logits thresholds label_weights" },
        { typeof(Precision), "thresholds top_k class_id" },
        { typeof(SparseTopKCategoricalAccuracy), "k from_sorted_ids" },
        { typeof(EarlyStopping), "monitor min_delta patience verbose mode baseline restore_best_weights start_from_epoch" },
        { typeof(ReduceLROnPlateau), "monitor factor patience verbose mode min_delta cooldown min_lr" },
        { typeof(CategoricalCrossentropy), "from_logits label_smoothing" },
        { typeof(Huber), "delta" },
    };

    [Theory]
    [MemberData(nameof(ExpectedKeys))]
    public void ConfigKeys_AreKerasKeys(Type type, string keys) =>
        Assert.Equal(keys.Split(' ').Order(), ConfigBinder.KeysOf(type).Select(k => k.Name).Order());
}
