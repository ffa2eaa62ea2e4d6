using System.Globalization;

namespace NanoCam.Data;

/// <summary>
/// Parses dataset specifications: "shapes[:COUNT]", "idx:DIR", "cifar10:DIR", "folder:DIR", each optionally followed by
/// "#START-END" to take examples [START, END), then optionally by "@SIZE" or "@HxW" to resize every image bilinearly (boxes
/// scaled with it). shapes uses a different seed per split; idx/cifar10/folder fall back to the
/// split that exists when only one does; folder:DIR reads DIR/train or DIR/test when those sub-folders exist.
/// </summary>
public static class DataSpec
{
    /// <summary>Default size of the shapes splits.</summary>
    public const int ShapesTrainCount = 6000, ShapesTestCount = 1000;

    /// <summary>Seeds of the shapes splits: different per split so train and test never share an image.</summary>
    public const int ShapesTrainSeed = 1, ShapesTestSeed = 2;

    public const string ValidForms = "shapes, shapes:COUNT, idx:DIR, cifar10:DIR, folder:DIR, each optionally followed by #START-END and then by @SIZE or @HxW (resize)";

    public static Dataset Parse(string spec, string split)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new ArgumentException($"empty dataset spec; valid forms: {ValidForms}", nameof(spec));
        string normalizedSplit = SplitNames.Normalize(split);
        string body = spec.Trim();
        (int Height, int Width)? size = null;
        int at = body.LastIndexOf('@');
        if (at >= 0 && at > body.LastIndexOf('/') && at > body.LastIndexOf('#'))
        {
            size = ParseSize(body[(at + 1)..], spec);
            body = body[..at];
        }

        (int Start, int End)? range = null;
        int hash = body.LastIndexOf('#');
        if (hash >= 0)
        {
            range = ParseRange(body[(hash + 1)..], spec);
            body = body[..hash];
        }

        Dataset dataset = Open(body, normalizedSplit, spec);
        if (range is { } r)
        {
            if (r.End > dataset.Count)
                throw new ArgumentOutOfRangeException(nameof(spec), $"dataset spec '{spec}': range #{r.Start}-{r.End} is out of bounds: the {normalizedSplit} split holds {dataset.Count} examples");
            dataset = new RangeDataset(dataset, r.Start, r.End);
        }
        return size is { } s && (s.Height != dataset.Height || s.Width != dataset.Width) ? new ResizedDataset(dataset, s.Height, s.Width) : dataset;
    }

    // "@32" (square) or "@32x48" (height × width), each side in [1, 4096].
    private static (int, int) ParseSize(string text, string spec)
    {
        string[] parts = text.Split('x', 'X', '×');
        var sides = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (parts.Length > 2 || !int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out sides[i]) || sides[i] < 1 || sides[i] > 4096)
                throw new ArgumentException($"dataset spec '{spec}': bad size '@{text}', expected @SIZE or @HxW with sides from 1 to 4096; valid forms: {ValidForms}", nameof(spec));
        return parts.Length == 1 ? (sides[0], sides[0]) : (sides[0], sides[1]);
    }

    private static Dataset Open(string body, string split, string spec)
    {
        int colon = body.IndexOf(':');
        string kind = (colon < 0 ? body : body[..colon]).Trim().ToLowerInvariant();
        string argument = colon < 0 ? "" : body[(colon + 1)..].Trim();
        bool train = split == SplitNames.Train;
        switch (kind)
        {
            case "shapes":
                int count = train ? ShapesTrainCount : ShapesTestCount;
                if (argument.Length > 0 && (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count <= 0))
                    throw new ArgumentException($"dataset spec '{spec}': shapes count must be a positive integer; valid forms: {ValidForms}", nameof(spec));
                return new ShapesDataset(count, train ? ShapesTrainSeed : ShapesTestSeed);
            case "idx" when argument.Length > 0:
                return IdxDataset.FromDirectory(argument, split);
            case "cifar10" when argument.Length > 0:
                return Cifar10Dataset.FromDirectory(argument, split);
            case "folder" when argument.Length > 0:
                return new ImageFolderDataset(FolderForSplit(argument, split));
            default:
                throw new ArgumentException($"bad dataset spec '{spec}'; valid forms: {ValidForms}", nameof(spec));
        }
    }

    // DIR/train and DIR/test hold the splits when present (the other one when only one is); otherwise DIR itself is the data.
    private static string FolderForSplit(string directory, string split)
    {
        string wanted = Path.Combine(directory, split), other = Path.Combine(directory, split == SplitNames.Train ? SplitNames.Test : SplitNames.Train);
        return Directory.Exists(wanted) ? wanted : Directory.Exists(other) ? other : directory;
    }

    private static (int, int) ParseRange(string text, string spec)
    {
        string[] parts = text.Split('-');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int start)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int end))
            throw new ArgumentException($"dataset spec '{spec}': bad range '#{text}', expected #START-END with 0 ≤ START < END; valid forms: {ValidForms}", nameof(spec));
        if (start >= end)
            throw new ArgumentOutOfRangeException(nameof(spec), $"dataset spec '{spec}': range #{start}-{end} is empty (need START < END)");
        return (start, end);
    }
}
