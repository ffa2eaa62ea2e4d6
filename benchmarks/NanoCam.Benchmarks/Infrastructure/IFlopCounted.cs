namespace NanoCam.Benchmarks.Infrastructure;

/// <summary>
/// A benchmark type that knows how many floating-point operations one invocation of each of its cases performs.
/// The host process (which never runs a benchmark) reads it through <see cref="GflopsColumn"/>, so the count must
/// follow from the method name and the case's parameters alone, never from state built in a setup method.
/// </summary>
public interface IFlopCounted
{
    /// <summary>FLOPs of one invocation of <paramref name="method"/> with the given [Params] values (name → value).</summary>
    static abstract double FlopsPerInvocation(string method, IReadOnlyDictionary<string, object?> parameters);
}
