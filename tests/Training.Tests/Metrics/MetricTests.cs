using System.Text.Json;
using TrainingService.Training.Metrics;
using TrainingService.Training.Specs;
using static TorchSharp.torch;

namespace TrainingService.Training.Tests.Metrics;

public class MetricTests
{
    internal static MetricSpec Spec(string json)
    {
        var errors = new List<SpecError>();
        var spec = MetricRegistry.Parse(JsonDocument.Parse(json).RootElement, "compile.metrics[0]", errors);
        Assert.True(errors.Count == 0, string.Join("; ", errors));
        return spec!;
    }

    private static readonly float[,] Probs = { { 0.1f, 0.7f, 0.2f }, { 0.5f, 0.3f, 0.2f }, { 0.2f, 0.3f, 0.5f }, { 0.3f, 0.4f, 0.3f } };

    [Fact]
    public void Accuracy_OutputOfOneUnit_ResolvesToBinaryAccuracy()
    {
        Assert.IsType<BinaryAccuracy>(ResolvedAccuracy.Resolve([1], []));
        Assert.IsType<BinaryAccuracy>(ResolvedAccuracy.Resolve([1], [1]));
        var m = Spec("\"accuracy\"").Create([1], []);
        Assert.Equal("accuracy", m.Name);
        m.Update(tensor(new long[] { 1, 0, 1, 0 }), tensor(new float[,] { { 0.9f }, { 0.2f }, { 0.4f }, { 0.5f } }));
        Assert.Equal(0.75, m.Result(), 6); // predicted 1, 0, 0, 0 (0.5 is not > 0.5): only the 0.4 is wrong
    }

    [Fact]
    public void Accuracy_IntegerLabels_ResolveToSparseCategorical()
    {
        Assert.IsType<SparseCategoricalAccuracy>(ResolvedAccuracy.Resolve([10], []));
        Assert.IsType<SparseCategoricalAccuracy>(ResolvedAccuracy.Resolve([10], [1]));
        var m = Spec("\"acc\"").Create([3], []);
        Assert.Equal("acc", m.Name);
        m.Update(tensor(new long[] { 1, 0, 1, 1 }), tensor(Probs));
        Assert.Equal(0.75, m.Result(), 6);
    }

    [Fact]
    public void Accuracy_OneHotTargets_ResolveToCategorical()
    {
        Assert.IsType<CategoricalAccuracy>(ResolvedAccuracy.Resolve([10], [10]));
        var m = Spec("\"accuracy\"").Create([3], [3]);
        var oneHot = nn.functional.one_hot(tensor(new long[] { 1, 0, 0, 1 }), 3).to_type(ScalarType.Float32);
        m.Update(oneHot, tensor(Probs));
        Assert.Equal(0.75, m.Result(), 6);
    }

    [Fact]
    public void Accuracy_AccumulatesOverBatchesByExample_AndResets()
    {
        var m = Spec("\"sparse_categorical_accuracy\"").Create([3], []);
        m.Update(tensor(new long[] { 1 }), tensor(new float[,] { { 0.1f, 0.7f, 0.2f } }));
        m.Update(tensor(new long[] { 1, 1, 1 }), tensor(new float[,] { { 0.5f, 0.3f, 0.2f }, { 0.2f, 0.3f, 0.5f }, { 0.3f, 0.4f, 0.3f } }));
        Assert.Equal(0.5, m.Result(), 6);
        m.Reset();
        Assert.Equal(0, m.Result());
    }

    [Fact]
    public void BinaryAccuracy_CustomThreshold()
    {
        var m = Spec("""{"type": "BinaryAccuracy", "threshold": 0.8}""").Create([1], [1]);
        Assert.Equal("binary_accuracy", m.Name);
        m.Update(tensor(new float[,] { { 1 }, { 1 } }), tensor(new float[,] { { 0.9f }, { 0.7f } }));
        Assert.Equal(0.5, m.Result(), 6);
    }

    [Fact]
    public void TopK_CountsTargetAmongKHighest()
    {
        var m = Spec("""{"type": "SparseTopKCategoricalAccuracy", "k": 2}""").Create([3], []);
        // ranks of the target: row0 class 2 (0.2) is 2nd → in; row1 class 2 (0.2) is 3rd → out; row2 class 0 (0.2) 3rd → out; row3 class 0 (0.3) tied 2nd → in
        m.Update(tensor(new long[] { 2, 2, 0, 0 }), tensor(Probs));
        Assert.Equal(0.5, m.Result(), 6);
        var k5 = Spec("\"top_k_categorical_accuracy\"").Create([3], [3]);
        k5.Update(nn.functional.one_hot(tensor(new long[] { 2, 2, 0, 0 }), 3).to_type(ScalarType.Float32), tensor(Probs));
        Assert.Equal(1.0, k5.Result(), 6);
    }

    [Fact]
    public void PrecisionAndRecall_CountAboveHalf()
    {
        var y = tensor(new float[,] { { 1 }, { 0 }, { 1 }, { 1 }, { 0 } });
        var p = tensor(new float[,] { { 0.9f }, { 0.6f }, { 0.4f }, { 0.7f }, { 0.5f } });
        // predicted positive: 0.9, 0.6, 0.7 (0.5 is not > 0.5) → tp 2, fp 1, fn 1
        var precision = Spec("\"precision\"").Create([1], [1]);
        var recall = Spec("\"Recall\"").Create([1], [1]);
        precision.Update(y, p);
        recall.Update(y, p);
        Assert.Equal(2.0 / 3, precision.Result(), 6);
        Assert.Equal(2.0 / 3, recall.Result(), 6);
        Assert.Equal("Recall", recall.Name);
        Assert.True(precision.HigherIsBetter);
    }

    [Fact]
    public void Precision_NothingPredicted_IsZero()
    {
        var m = Spec("\"precision\"").Create([1], [1]);
        m.Update(tensor(new float[,] { { 1 } }), tensor(new float[,] { { 0.1f } }));
        Assert.Equal(0, m.Result());
    }

    [Fact]
    public void Precision_ClassIdOnIntegerLabels()
    {
        var m = Spec("""{"class_name": "Precision", "config": {"name": "precision_c1", "class_id": 1, "thresholds": null, "top_k": null}}""").Create([3], []);
        Assert.Equal("precision_c1", m.Name);
        // class-1 scores: .7 .3 .3 .4 → only row0 > .5, and its label is 1
        m.Update(tensor(new long[] { 1, 0, 1, 1 }), tensor(Probs));
        Assert.Equal(1.0, m.Result(), 6);
    }

    [Fact]
    public void Recall_TopK_CountsTopClassesAsPredicted()
    {
        var m = Spec("""{"type": "Recall", "top_k": 1}""").Create([3], []);
        // top-1 classes: 1, 0, 2, 1 ; labels 1, 0, 1, 1 → 3 of 4 positives found
        m.Update(tensor(new long[] { 1, 0, 1, 1 }), tensor(Probs));
        Assert.Equal(0.75, m.Result(), 6);
    }

    [Fact]
    public void Auc_SeparatedScores_EqualExactRocAuc()
    {
        var m = Spec("\"auc\"").Create([1], [1]);
        m.Update(tensor(new float[,] { { 0 }, { 0 }, { 1 }, { 1 } }), tensor(new float[,] { { 0.1f }, { 0.4f }, { 0.35f }, { 0.8f } }));
        Assert.Equal(0.75, m.Result(), 6);
        Assert.Equal("auc", m.Name);
    }

    [Fact]
    public void Auc_TiedScores_GiveTrapezoidHalf()
    {
        var m = Spec("\"AUC\"").Create([1], [1]);
        m.Update(tensor(new float[,] { { 0 }, { 1 } }), tensor(new float[,] { { 0.5f }, { 0.5f } }));
        Assert.Equal(0.5, m.Result(), 6);
        Assert.Equal("AUC", m.Name);
    }

    [Fact]
    public void Auc_FewThresholds_InterpolatesBetweenBuckets()
    {
        // thresholds −1e-7, 0.5, 1+1e-7: ROC points (1,1), (fpr, tpr) at 0.5, (0,0)
        var m = Spec("""{"type": "AUC", "num_thresholds": 3}""").Create([1], [1]);
        m.Update(tensor(new float[,] { { 0 }, { 0 }, { 1 }, { 1 } }), tensor(new float[,] { { 0.2f }, { 0.6f }, { 0.7f }, { 0.4f } }));
        // at 0.5: tp 1/2, fp 1/2 → point (0.5, 0.5); area = 0.5·(1+0.5)/2 + 0.5·(0.5+0)/2 = 0.5
        Assert.Equal(0.5, m.Result(), 6);
    }

    [Fact]
    public void Auc_AccumulatesAcrossBatches()
    {
        var m = Spec("\"auc\"").Create([1], [1]);
        m.Update(tensor(new float[,] { { 0 }, { 1 } }), tensor(new float[,] { { 0.1f }, { 0.35f } }));
        m.Update(tensor(new float[,] { { 0 }, { 1 } }), tensor(new float[,] { { 0.4f }, { 0.8f } }));
        Assert.Equal(0.75, m.Result(), 6);
    }

    [Fact]
    public void Auc_PrCurve_PerfectSeparationIsOne()
    {
        var m = Spec("""{"type": "AUC", "curve": "PR"}""").Create([1], [1]);
        m.Update(tensor(new float[,] { { 0 }, { 0 }, { 1 }, { 1 } }), tensor(new float[,] { { 0.1f }, { 0.1f }, { 0.9f }, { 0.9f } }));
        Assert.Equal(1.0, m.Result(), 6);
    }

    [Fact]
    public void Auc_MultiLabel_AveragesPerLabelAucs()
    {
        var m = Spec("""{"type": "AUC", "multi_label": true}""").Create([2], [2]);
        // label 0 perfectly ranked (AUC 1), label 1 inverted (AUC 0)
        m.Update(tensor(new float[,] { { 1, 1 }, { 0, 0 } }), tensor(new float[,] { { 0.9f, 0.1f }, { 0.1f, 0.9f } }));
        Assert.Equal(0.5, m.Result(), 6);
    }

    [Fact]
    public void RegressionMetrics_AverageOverExamples()
    {
        var mae = Spec("\"mae\"").Create([2], [2]);
        var mse = Spec("\"mse\"").Create([2], [2]);
        var rmse = Spec("\"RootMeanSquaredError\"").Create([2], [2]);
        var y = tensor(new float[,] { { 1, 2 }, { 0, 0 } });
        var p = tensor(new float[,] { { 2, 2 }, { 0, 3 } });
        foreach (var m in new[] { mae, mse, rmse }) m.Update(y, p);
        Assert.Equal(1.0, mae.Result(), 6);
        Assert.Equal(2.5, mse.Result(), 6);
        Assert.Equal(Math.Sqrt(2.5), rmse.Result(), 6);
        Assert.False(mse.HigherIsBetter);
        Assert.Equal("mae", mae.Name);
    }

    [Fact]
    public void CrossentropyMetric_UsesProbabilities()
    {
        var m = Spec("\"sparse_categorical_crossentropy\"").Create([3], []);
        m.Update(tensor(new long[] { 1, 0 }), tensor(new float[,] { { 0.1f, 0.7f, 0.2f }, { 0.5f, 0.3f, 0.2f } }));
        Assert.Equal((-Math.Log(0.7) - Math.Log(0.5)) / 2, m.Result(), 5);
    }

    [Fact]
    public void TfKerasMeanMetricWrapper_IsReadByFunctionName()
    {
        var spec = Spec("""{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}}""");
        Assert.Equal("accuracy", spec.Name);
        Assert.IsType<CategoricalAccuracy>(spec.Config);
    }

    [Fact]
    public void Keras3SerializedMetricObjects_AreRead()
    {
        Spec("""{"module": "keras.metrics", "class_name": "AUC", "config": {"name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC", "summation_method": "interpolation", "multi_label": false, "num_labels": null, "label_weights": null, "from_logits": false}, "registered_name": null}""");
        Spec("""{"module": "keras.metrics", "class_name": "CategoricalCrossentropy", "config": {"name": "categorical_crossentropy", "dtype": "float32", "from_logits": false, "label_smoothing": 0, "axis": -1}}""");
        Assert.Equal("top_k", Spec("""{"class_name": "TopKCategoricalAccuracy", "config": {"name": "top_k", "dtype": "float32", "k": 3}}""").Name);
    }

    [Fact]
    public void UnknownMetric_ListsAcceptedNames()
    {
        var errors = new List<SpecError>();
        Assert.Null(MetricRegistry.Parse(JsonDocument.Parse("\"acuracy\"").RootElement, "compile.metrics[1]", errors));
        var e = Assert.Single(errors);
        Assert.Equal("compile.metrics[1]", e.Path);
        Assert.Contains("accuracy", e.Message);
        Assert.Contains("auc", e.Message);
        errors.Clear();
        Assert.Null(MetricRegistry.Parse(JsonDocument.Parse("""{"type": "AUC", "curve": "XY"}""").RootElement, "compile.metrics[0]", errors));
        Assert.Equal("compile.metrics[0].curve", Assert.Single(errors).Path);
    }
}
