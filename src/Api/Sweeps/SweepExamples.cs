namespace TrainingService.Api.Sweeps;

/// <summary>The worked request body shown in the OpenAPI document for <c>POST /api/sweeps</c>.</summary>
public static class SweepExamples
{
    public const string SubmitSweep = """
        {
          "name": "digits-sweep",
          "base": {
            "dataset": {"name": "digits", "preprocessing": {"rescale": 0.0625, "reshape": [64], "test_fraction": 0.2, "seed": 1}},
            "model": {"input_shape": [64], "layers": [
              {"type": "Dense", "units": 64, "activation": "relu"},
              {"type": "Dropout", "rate": 0.2},
              {"type": "Dense", "units": 10, "activation": "softmax"}]},
            "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.001}, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
            "fit": {"epochs": 9, "batch_size": 32, "validation_split": 0.2, "seed": 1}
          },
          "space": {
            "compile.optimizer.learning_rate": {"log_uniform": [0.0001, 0.01]},
            "model.layers[0].units": {"choice": [32, 64, 128]},
            "model.layers[1].rate": {"uniform": [0.0, 0.5]},
            "fit.batch_size": {"choice": [32, 64]}
          },
          "method": "asha",
          "asha": {"grace_period": 1, "reduction_factor": 3},
          "max_trials": 12,
          "max_concurrent_trials": 1,
          "objective": {"metric": "val_accuracy", "mode": "max"},
          "seed": 1,
          "promote_to": "digits-tuned"
        }
        """;
}
