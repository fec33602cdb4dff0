namespace TrainingService.Training.Datasets;

/// <summary>The datasets a run can name, with Keras's shapes, dtypes, sizes and class names.</summary>
public static class DatasetCatalog
{
    public static readonly string[] IdxFiles =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    public static readonly string[] Cifar10TrainFiles =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    public static readonly string[] FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static readonly string[] Cifar10Classes =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    public static readonly string[] Cifar100FineClasses =
    [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
        "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
        "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
        "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
        "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
        "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
        "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
        "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
    ];

    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    private static IReadOnlyList<IReadOnlyList<string>> IdxLayouts(bool withNpz)
    {
        var layouts = new List<IReadOnlyList<string>>
        {
            IdxFiles.Select(f => f + ".gz").ToArray(),
            IdxFiles,
        };
        if (withNpz) layouts.Add(["mnist.npz"]);
        return layouts;
    }

    private static RemoteFile[] IdxDownloads(string baseUrl, string[] md5s) =>
        IdxFiles.Select((f, i) => new RemoteFile(baseUrl + f + ".gz", f + ".gz", md5s[i])).ToArray();

    public static readonly IReadOnlyList<DatasetDefinition> All =
    [
        new("mnist", "Handwritten digits 0-9, 28x28 greyscale (LeCun et al.).", DatasetKind.Images, "mnist",
            [28, 28], "uint8", 60000, 10000, Digits, IdxLayouts(withNpz: true),
            IdxDownloads("https://ossci-datasets.s3.amazonaws.com/mnist/",
                ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                 "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"]),
            "CC BY-SA 3.0 (Yann LeCun, Corinna Cortes)"),
        new("fashion_mnist", "Zalando article images in 10 classes, 28x28 greyscale.", DatasetKind.Images, "fashion_mnist",
            [28, 28], "uint8", 60000, 10000, FashionMnistClasses, IdxLayouts(withNpz: false),
            IdxDownloads("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                 "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"]),
            "MIT (Zalando SE)"),
        new("cifar10", "32x32 colour photographs in 10 classes (Krizhevsky 2009).", DatasetKind.Images, "cifar10",
            [32, 32, 3], "uint8", 50000, 10000, Cifar10Classes,
            [Cifar10TrainFiles.Append("test_batch.bin").Select(f => "cifar-10-batches-bin/" + f).ToArray(), ["cifar-10-binary.tar.gz"]],
            [new("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")],
            null),
        new("cifar100", "32x32 colour photographs in 100 fine classes (Krizhevsky 2009).", DatasetKind.Images, "cifar100",
            [32, 32, 3], "uint8", 50000, 10000, Cifar100FineClasses,
            [["cifar-100-binary/train.bin", "cifar-100-binary/test.bin"], ["cifar-100-binary.tar.gz"]],
            [new("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8")],
            null),
        new("imdb", "Movie reviews labelled negative/positive, as Keras's word-index sequences (Maas et al. 2011).",
            DatasetKind.Sequences, "imdb", [], "int32", 25000, 25000, ["negative", "positive"],
            [["aclImdb/", "imdb_word_index.json"], ["aclImdb_v1.tar.gz", "imdb_word_index.json"]],
            [new("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz", "aclImdb_v1.tar.gz", "7c2ac02c03563afcf9b574c7e56c153a"),
             new("https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json", "imdb_word_index.json", "bfafd718b763782e994055a2d397834f")],
            null),
        new("digits", "scikit-learn's handwritten digits: 8x8 images, values 0-16 (bundled; no test split).",
            DatasetKind.Images, null, [8, 8], "uint8", 1797, null, Digits, [], [], "BSD-3-Clause (scikit-learn)"),
        new("iris", "Fisher's iris: 4 measurements in cm, 3 species (bundled; no test split).",
            DatasetKind.Table, null, [4], "float32", 150, null, ["setosa", "versicolor", "virginica"], [], [], "BSD-3-Clause (scikit-learn)"),
    ];

    public static DatasetDefinition? Find(string name) =>
        All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal));

    /// <summary>Every catalog entry with whether it is on this machine; nothing is loaded.</summary>
    public static IReadOnlyList<DatasetInfo> List(DatasetOptions options) => All.Select(d => Describe(d, options)).ToArray();

    public static DatasetInfo Describe(DatasetDefinition d, DatasetOptions options)
    {
        var found = DatasetLocator.Locate(d, options);
        return new DatasetInfo(d.Name, d.Description, d.Kind, d.InputShape, d.InputDType, d.TrainCount, d.TestCount,
            d.ClassNames, found is not null, found?.Describe(), d.Downloads.Count > 0,
            found is null ? DatasetLocator.Instructions(d, options) : null, d.License);
    }
}
