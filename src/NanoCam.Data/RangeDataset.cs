namespace NanoCam.Data;

/// <summary>A view of examples [Start, End) of another dataset, re-indexed from 0.</summary>
public sealed class RangeDataset : Dataset
{
    private readonly Dataset _inner;

    public RangeDataset(Dataset inner, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (start < 0 || end > inner.Count || start >= end)
            throw new ArgumentOutOfRangeException(nameof(start), $"range [{start}, {end}) is not a non-empty part of [0, {inner.Count}) for {inner.Description}");
        _inner = inner;
        Start = start;
        End = end;
    }

    public int Start { get; }
    public int End { get; }
    public Dataset Inner => _inner;

    public override int Count => End - Start;
    public override IReadOnlyList<string> ClassNames => _inner.ClassNames;
    public override int Channels => _inner.Channels;
    public override int Height => _inner.Height;
    public override int Width => _inner.Width;
    public override string Description => $"{_inner.Description} #{Start}-{End}";

    public override void GetImage(int index, Span<float> chw) { CheckIndex(index); _inner.GetImage(Start + index, chw); }
    public override int GetLabel(int index) { CheckIndex(index); return _inner.GetLabel(Start + index); }
    public override Box? GetBox(int index) { CheckIndex(index); return _inner.GetBox(Start + index); }
}
