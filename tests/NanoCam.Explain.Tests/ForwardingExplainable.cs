using NanoCam.Autodiff;

namespace NanoCam.Explain.Tests;

/// <summary>
/// A model that answers as <paramref name="inner"/> does; a test derives from it to change one thing (the members with
/// a default in <see cref="IExplainable"/>, such as the perturbation batch, keep that default: they are not forwarded).
/// </summary>
internal abstract class ForwardingExplainable(IExplainable inner) : IExplainable
{
    public Tensor Scores(Tape tape, Tensor input) => inner.Scores(tape, input);
    public int Classes => inner.Classes;
    public IReadOnlyList<string>? ClassNames => inner.ClassNames;
    public CamHead? CamHead => inner.CamHead;
    public string DefaultLayer => inner.DefaultLayer;
    public int MaxBatch => inner.MaxBatch;
    public string ActivationsOf(string layer) => inner.ActivationsOf(layer);
    public string ResolveLayer(string layer) => inner.ResolveLayer(layer);
}
