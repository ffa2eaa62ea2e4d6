namespace NanoCam.Data;

/// <summary>
/// Serves a dataset as mini-batches: seeded per-epoch shuffling, random crop with zero padding and horizontal flips
/// seeded per (epoch, example), per-channel normalization. Batch tensors are allocated once per batch size and reused,
/// and rows may be filled in parallel; every value depends only on (seed, epoch, example), never on thread timing.
/// Not thread-safe: one caller at a time.
/// </summary>
public sealed class DataLoader
{
    private readonly Dataset _dataset;
    private readonly DataLoaderOptions _options;
    private readonly int[] _order;
    private readonly float[] _scale, _shift;
    private readonly float[]? _scratch;
    private readonly Dictionary<int, Batch> _batches = new();
    private readonly Action<int> _fillRow;
    private readonly ParallelOptions _parallel;
    private int _orderEpoch = -1;

    // State of the batch being filled, read by _fillRow on the worker threads.
    private Batch? _current;
    private ulong _epochKey;

    public DataLoader(Dataset dataset, int batchSize, DataLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be positive");
        _dataset = dataset;
        _options = options ?? new DataLoaderOptions();
        BatchSize = batchSize;
        if (_options.CropPadding < 0) throw new ArgumentOutOfRangeException(nameof(options), "CropPadding cannot be negative");

        // Normalization as one multiply-add per value: x' = x·(1/std) + (−mean/std).
        int channels = dataset.Channels;
        _scale = new float[channels];
        _shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float mean = PerChannel(_options.Mean, c, 0f, "Mean"), std = PerChannel(_options.Std, c, 1f, "Std");
            if (!(std > 0)) throw new ArgumentException($"Std[{c}] must be positive, got {std}", nameof(options));
            _scale[c] = 1f / std;
            _shift[c] = -mean / std;
        }

        _order = new int[dataset.Count];
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (Augments) _scratch = new float[batchSize * dataset.ImageSize];
        _fillRow = FillRow;
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Workers) };
    }

    public Dataset Dataset => _dataset;
    public int BatchSize { get; }
    public DataLoaderOptions Options => _options;

    /// <summary>Batches per epoch: ⌈N / B⌉, or ⌊N / B⌋ with DropLast.</summary>
    public int BatchCount => _options.DropLast ? _dataset.Count / BatchSize : (_dataset.Count + BatchSize - 1) / BatchSize;

    private bool Augments => _options.CropPadding > 0 || _options.HorizontalFlip;

    /// <summary>All batches of one epoch, in order. Each yielded batch is overwritten by the next batch of the same size.</summary>
    public IEnumerable<Batch> Epoch(int epoch)
    {
        for (int b = 0; b < BatchCount; b++) yield return GetBatch(epoch, b);
    }

    /// <summary>Batch <paramref name="batchIndex"/> of epoch <paramref name="epoch"/> (random access; same result every call).</summary>
    public Batch GetBatch(int epoch, int batchIndex)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), "epoch cannot be negative");
        if ((uint)batchIndex >= (uint)BatchCount) throw new ArgumentOutOfRangeException(nameof(batchIndex), $"batch {batchIndex} is outside [0, {BatchCount})");
        EnsureOrder(epoch);
        int start = batchIndex * BatchSize, size = Math.Min(BatchSize, _dataset.Count - start);
        if (!_batches.TryGetValue(size, out Batch? batch))
            _batches[size] = batch = new Batch(size, _dataset.Channels, _dataset.Height, _dataset.Width);
        _order.AsSpan(start, size).CopyTo(batch.Indices);

        _current = batch;
        _epochKey = CounterRng.Hash((ulong)_options.Seed, 0x5EED_0000UL + (ulong)epoch);
        if (_options.Workers > 1 && size > 1) Parallel.For(0, size, _parallel, _fillRow);
        else for (int row = 0; row < size; row++) FillRow(row);
        _current = null;
        return batch;
    }

    // Fisher–Yates with swaps drawn from Hash(seed, epoch): a permutation that depends only on (seed, epoch).
    private void EnsureOrder(int epoch)
    {
        if (_orderEpoch == epoch || (!_options.Shuffle && _orderEpoch >= 0)) return;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (_options.Shuffle)
        {
            var rng = SplitMix64.For(_options.Seed, epoch);
            for (int i = _order.Length - 1; i > 0; i--)
            {
                int j = rng.NextInt(i + 1);
                (_order[i], _order[j]) = (_order[j], _order[i]);
            }
        }
        _orderEpoch = epoch;
    }

    private void FillRow(int row)
    {
        Batch batch = _current!;
        int index = batch.Indices[row], imageSize = _dataset.ImageSize;
        Span<float> destination = batch.Images.Data.AsSpan(row * imageSize, imageSize);
        batch.Labels.Data[row] = _dataset.GetLabel(index);

        if (!Augments) _dataset.GetImage(index, destination);
        else
        {
            Span<float> raw = _scratch.AsSpan(row * imageSize, imageSize);
            _dataset.GetImage(index, raw);
            var rng = SplitMix64.For((long)_epochKey, index);
            int p = _options.CropPadding;
            int dx = p > 0 ? rng.NextInt(-p, p) : 0, dy = p > 0 ? rng.NextInt(-p, p) : 0;
            bool flip = _options.HorizontalFlip && rng.NextInt(2) == 1;
            Augment(raw, destination, _dataset.Channels, _dataset.Height, _dataset.Width, dx, dy, flip);
        }

        int plane = _dataset.Height * _dataset.Width;
        for (int c = 0; c < _dataset.Channels; c++)
        {
            float scale = _scale[c], shift = _shift[c];
            if (scale == 1f && shift == 0f) continue;
            Span<float> channel = destination.Slice(c * plane, plane);
            for (int i = 0; i < channel.Length; i++) channel[i] = channel[i] * scale + shift;
        }
    }

    /// <summary>
    /// Pad-and-crop then mirror: out(c, y, x) = src(c, y + dy, u + dx) with u = W − 1 − x when flipped (else x),
    /// and 0 where the source position falls outside the image (the zero padding).
    /// </summary>
    public static void Augment(ReadOnlySpan<float> source, Span<float> destination, int channels, int height, int width, int dx, int dy, bool flip)
    {
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
            {
                int sy = y + dy, rowOut = (c * height + y) * width;
                if ((uint)sy >= (uint)height) { destination.Slice(rowOut, width).Clear(); continue; }
                int rowIn = (c * height + sy) * width;
                for (int x = 0; x < width; x++)
                {
                    int sx = (flip ? width - 1 - x : x) + dx;
                    destination[rowOut + x] = (uint)sx < (uint)width ? source[rowIn + sx] : 0f;
                }
            }
    }

    private float PerChannel(float[]? values, int channel, float fallback, string name)
    {
        if (values is null) return fallback;
        if (values.Length == 1) return values[0];
        if (values.Length != _dataset.Channels)
            throw new ArgumentException($"{name} has {values.Length} values but the dataset has {_dataset.Channels} channels");
        return values[channel];
    }
}
