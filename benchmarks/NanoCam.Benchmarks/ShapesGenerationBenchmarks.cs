using NanoCam.Data;

namespace NanoCam.Benchmarks;

/// <summary>
/// Rendering the synthetic shapes images that training and the tests read: 2,000 images of <see cref="ShapesDataset"/>
/// into one reused buffer (the figure a timed unit test used to assert, under 4 s, now measured here).
/// </summary>
[MemoryDiagnoser]
public class ShapesGenerationBenchmarks
{
    private readonly ShapesDataset _shapes = new(2000, seed: 1);
    private float[] _image = [];

    [GlobalSetup]
    public void Setup() => _image = new float[_shapes.ImageSize];

    [Benchmark]
    public void Render2000Images()
    {
        for (int i = 0; i < _shapes.Count; i++) _shapes.GetImage(i, _image);
    }
}
