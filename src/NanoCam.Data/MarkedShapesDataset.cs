namespace NanoCam.Data;

/// <summary>How <see cref="MarkedShapesDataset"/> decides which images carry the marker.</summary>
public enum MarkerPlacement
{
    /// <summary>No image is marked (the unbiased test set).</summary>
    None,
    /// <summary>Images of the marked class carry it with probability <c>rate</c>, every other image with probability <c>1 − rate</c> spread over the other classes' share (a shortcut).</summary>
    Biased,
    /// <summary>Every image with probability <c>rate</c>, whatever its class (the fix: the marker says nothing).</summary>
    Random,
    /// <summary>Every image that is NOT of the marked class (the shortcut turned against the model).</summary>
    OtherClasses,
}

/// <summary>
/// The shapes data set with a small solid square (the marker) painted into the top-left corner of some images: a
/// spurious cue whose co-occurrence with one class is set by <see cref="MarkerPlacement"/>. Whether image i is marked
/// depends only on (seed, i), so any index can be generated alone.
/// </summary>
public sealed class MarkedShapesDataset : Dataset
{
    /// <summary>Side of the marker square in pixels.</summary>
    public const int MarkerSide = 8;

    /// <summary>Distance of the marker from the image's top and left edges, in pixels.</summary>
    public const int MarkerInset = 2;

    private readonly ShapesDataset _shapes;

    /// <param name="rate">For <see cref="MarkerPlacement.Biased"/>: the share of marked images that belong to <paramref name="markedClass"/>; for <see cref="MarkerPlacement.Random"/>: the probability of a marker.</param>
    public MarkedShapesDataset(ShapesDataset shapes, int markedClass, MarkerPlacement placement, double rate)
    {
        if ((uint)markedClass >= (uint)shapes.ClassNames.Count) throw new ArgumentOutOfRangeException(nameof(markedClass), $"class {markedClass} is not one of the {shapes.ClassNames.Count} shapes");
        if (!(rate >= 0 && rate <= 1)) throw new ArgumentOutOfRangeException(nameof(rate), $"rate must lie in [0, 1], got {rate}");
        _shapes = shapes;
        MarkedClass = markedClass;
        Placement = placement;
        Rate = rate;
    }

    public int MarkedClass { get; }
    public MarkerPlacement Placement { get; }
    public double Rate { get; }
    public override int Count => _shapes.Count;
    public override IReadOnlyList<string> ClassNames => _shapes.ClassNames;
    public override int Channels => _shapes.Channels;
    public override int Height => _shapes.Height;
    public override int Width => _shapes.Width;
    public override string Description => $"{_shapes.Description} with a corner marker ({Placement}, {ClassNames[MarkedClass]}, rate {Rate:0.##})";

    /// <summary>The marker's pixels: x and y in [<see cref="MarkerInset"/>, <see cref="MarkerInset"/> + <see cref="MarkerSide"/>).</summary>
    public static Box MarkerBox => new(MarkerInset, MarkerInset, MarkerInset + MarkerSide - 1, MarkerInset + MarkerSide - 1);

    /// <summary>
    /// Whether image <paramref name="index"/> carries the marker. Biased: P(marked | class c) is <c>rate</c> for the marked
    /// class and (1 − rate)/(classes − 1) for each other class, so that with balanced classes a share <c>rate</c> of the
    /// marked images are of the marked class.
    /// </summary>
    public bool IsMarked(int index)
    {
        CheckIndex(index);
        bool ofClass = _shapes.GetLabel(index) == MarkedClass;
        double u = SplitMix64.For(_shapes.Seed ^ 0x6D61726B, index).NextFloat();
        return Placement switch
        {
            MarkerPlacement.None => false,
            MarkerPlacement.OtherClasses => !ofClass,
            MarkerPlacement.Random => u < Rate,
            _ => u < (ofClass ? Rate : (1 - Rate) / (ClassNames.Count - 1)),
        };
    }

    public override int GetLabel(int index) => _shapes.GetLabel(index);

    public override Box? GetBox(int index) => _shapes.GetBox(index);

    public override void GetImage(int index, Span<float> chw)
    {
        _shapes.GetImage(index, chw);
        if (!IsMarked(index)) return;
        // Magenta (1, 0, 1): painted over whatever lies there, shape included.
        int plane = Height * Width;
        for (int y = MarkerInset; y < MarkerInset + MarkerSide; y++)
            for (int x = MarkerInset; x < MarkerInset + MarkerSide; x++)
            {
                int p = y * Width + x;
                chw[p] = 1f;
                chw[plane + p] = 0f;
                chw[2 * plane + p] = 1f;
            }
    }
}
