namespace TrainingService.Api.Infrastructure;

/// <summary>Worked request bodies shown in the OpenAPI document (the same as <c>examples/digits-*.json</c>).</summary>
public static class ApiExamples
{
    public const string SubmitRun = """
        {
          "name": "digits-mlp",
          "dataset": {
            "name": "digits",
            "preprocessing": {
              "rescale": 0.0625,
              "reshape": [
                64
              ]
            }
          },
          "model": {
            "input_shape": [
              64
            ],
            "layers": [
              {
                "type": "Dense",
                "units": 64,
                "activation": "relu"
              },
              {
                "type": "Dense",
                "units": 10,
                "activation": "softmax"
              }
            ]
          },
          "compile": {
            "optimizer": "adam",
            "loss": "sparse_categorical_crossentropy",
            "metrics": [
              "accuracy"
            ]
          },
          "fit": {
            "epochs": 30,
            "batch_size": 32,
            "validation_split": 0.1,
            "seed": 1
          }
        }
        """;

    public const string Predict = """
        {"instances": [[[0, 0, 5, 13, 9, 1, 0, 0], [0, 0, 13, 15, 10, 15, 5, 0], [0, 3, 15, 2, 0, 11, 8, 0], [0, 4, 12, 0, 0, 8, 8, 0], [0, 5, 8, 0, 0, 9, 8, 0], [0, 4, 11, 0, 1, 12, 7, 0], [0, 2, 14, 5, 10, 12, 0, 0], [0, 0, 6, 13, 10, 0, 0, 0]]]}
        """;
}
