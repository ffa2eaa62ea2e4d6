namespace NanoCam.Data;

/// <summary>MNIST / Fashion-MNIST from IDX files (gzipped or not): 1-channel images scaled to [0, 1], each boxed by its ink.</summary>
public sealed class IdxDataset : Dataset
{
    private static readonly string[] FashionNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private readonly byte[] _pixels;
    private readonly byte[] _labels;
    private readonly string[] _classNames;

    public IdxDataset(string imagesPath, string labelsPath, IReadOnlyList<string>? classNames = null)
    {
        (int count, int rows, int columns, byte[] pixels) = IdxFile.ReadImages(imagesPath);
        byte[] labels = IdxFile.ReadLabels(labelsPath);
        if (labels.Length != count)
            throw new InvalidDataException($"{labelsPath}: holds {labels.Length} labels but {imagesPath} holds {count} images");
        int classes = Math.Max(10, labels.Max() + 1);
        _classNames = classNames?.ToArray() ?? Enumerable.Range(0, classes).Select(c => c.ToString()).ToArray();
        if (labels.Max() >= _classNames.Length)
            throw new InvalidDataException($"{labelsPath}: label {labels.Max()} is outside the {_classNames.Length} class names");
        _pixels = pixels;
        _labels = labels;
        Count = count;
        Height = rows;
        Width = columns;
        ImagesPath = imagesPath;
    }

    public string ImagesPath { get; }
    public override int Count { get; }
    public override IReadOnlyList<string> ClassNames => _classNames;
    public override int Channels => 1;
    public override int Height { get; }
    public override int Width { get; }
    public override string Description => $"idx {ImagesPath} ({Count} × 1×{Height}×{Width})";

    /// <summary>
    /// Opens the split of a directory: "train" → train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz],
    /// "test" → t10k-*. When only one split is present it is used whatever split was asked. A directory whose name
    /// contains "fashion" gets the Fashion-MNIST class names.
    /// </summary>
    public static IdxDataset FromDirectory(string directory, string split)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"IDX directory not found: {directory}");
        string wanted = SplitNames.Normalize(split) == "train" ? "train" : "t10k";
        string other = wanted == "train" ? "t10k" : "train";
        (string Images, string Labels)? pair = FindPair(directory, wanted) ?? FindPair(directory, other);
        if (pair is null)
            throw new FileNotFoundException(
                $"{directory}: no IDX pair found (expected train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz] or t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz])");
        bool fashion = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))).Contains("fashion", StringComparison.OrdinalIgnoreCase);
        return new IdxDataset(pair.Value.Images, pair.Value.Labels, fashion ? FashionNames : null);
    }

    public override void GetImage(int index, Span<float> chw)
    {
        CheckIndex(index);
        CheckDestination(chw);
        int size = Height * Width;
        ReadOnlySpan<byte> source = _pixels.AsSpan(index * size, size);
        for (int i = 0; i < size; i++) chw[i] = source[i] * (1f / 255f);
    }

    public override int GetLabel(int index)
    {
        CheckIndex(index);
        return _labels[index];
    }

    /// <summary>
    /// A pixel is ink when its scaled value exceeds this (byte ≥ 128 of 255): the ground-truth box of an IDX image is the
    /// tight box of its ink pixels, so that CAM localization can be measured on MNIST, which ships no boxes.
    /// </summary>
    public const float InkThreshold = 0.5f;

    /// <summary>The tight box (inclusive corners) of the pixels brighter than <see cref="InkThreshold"/>; null for an image without ink.</summary>
    public override Box? GetBox(int index)
    {
        CheckIndex(index);
        int size = Height * Width;
        ReadOnlySpan<byte> source = _pixels.AsSpan(index * size, size);
        int x0 = Width, y0 = Height, x1 = -1, y1 = -1;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                if (source[y * Width + x] * (1f / 255f) <= InkThreshold) continue;
                x0 = Math.Min(x0, x); x1 = Math.Max(x1, x);
                y0 = Math.Min(y0, y); y1 = Math.Max(y1, y);
            }
        return x1 < 0 ? null : new Box(x0, y0, x1, y1);
    }

    private static (string, string)? FindPair(string directory, string prefix)
    {
        string? images = FindFile(directory, $"{prefix}-images-idx3-ubyte"), labels = FindFile(directory, $"{prefix}-labels-idx1-ubyte");
        return images is not null && labels is not null ? (images, labels) : null;
    }

    // Accepts the plain name, the .gz name, and the dotted variant some mirrors use (t10k-images.idx3-ubyte).
    private static string? FindFile(string directory, string name)
    {
        string dotted = name.Replace("-idx", ".idx");
        foreach (string candidate in new[] { name, name + ".gz", dotted, dotted + ".gz" })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
