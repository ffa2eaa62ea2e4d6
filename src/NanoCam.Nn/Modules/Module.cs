using NanoCam.Autodiff;

namespace NanoCam.Nn.Modules;

/// <summary>
/// A layer or a network: a forward function over the tape, named parameters, and children. Parameter names follow
/// PyTorch's state_dict convention: a child's path joined by dots, then the local name ("features.0.weight").
/// </summary>
public abstract class Module
{
    private readonly List<Parameter> _parameters = [];
    private readonly List<(string Name, Module Module)> _children = [];

    /// <summary>Dotted path from the root ("features.3"); empty for the root. Set by <see cref="AssignPaths"/>.</summary>
    public string Path { get; private set; } = "";

    /// <summary>Computes the output; implementations record operations on <paramref name="tape"/>.</summary>
    public abstract Tensor Forward(Tape tape, Tensor input);

    /// <summary>Runs <see cref="Forward"/> and publishes the output under this module's path, so hooks can find it.</summary>
    public Tensor Call(Tape tape, Tensor input)
    {
        var output = Forward(tape, input);
        return Path.Length == 0 ? output : tape.Publish(output, Path);
    }

    public IReadOnlyList<(string Name, Module Module)> Children => _children;

    protected Parameter AddParameter(string name, Tensor value, bool trainable = true)
    {
        var p = new Parameter(name, value, trainable);
        _parameters.Add(p);
        return p;
    }

    protected T AddChild<T>(string name, T child) where T : Module
    {
        _children.Add((name, child));
        return child;
    }

    /// <summary>Gives every module in the tree its dotted path; call once on the root after building it.</summary>
    public Module AssignPaths(string prefix = "")
    {
        Path = prefix;
        foreach (var (name, child) in _children) child.AssignPaths(prefix.Length == 0 ? name : prefix + "." + name);
        return this;
    }

    /// <summary>Every parameter and buffer of the tree, by full name, in definition order.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var p in _parameters) yield return (Join(prefix, p.Name), p);
        foreach (var (name, child) in _children)
            foreach (var item in child.NamedParameters(Join(prefix, name))) yield return item;
    }

    /// <summary>Trainable parameters only (what an optimizer updates).</summary>
    public IEnumerable<Parameter> TrainableParameters() => NamedParameters().Select(p => p.Parameter).Where(p => p.Trainable);

    /// <summary>Name → tensor for checkpoints (parameters and buffers).</summary>
    public Dictionary<string, Tensor> StateDict() => NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Value);

    /// <summary>Every module of the tree with its path, depth first (the root first).</summary>
    public IEnumerable<Module> Modules()
    {
        yield return this;
        foreach (var (_, child) in _children)
            foreach (var m in child.Modules()) yield return m;
    }

    /// <summary>
    /// Moves every parameter and buffer into <paramref name="kernels"/>' memory; one already on that side of the
    /// host/device edge stays as it is (so this is a no-op for the CPU backends, and calling it twice copies once).
    /// </summary>
    public void MoveTo(IKernels kernels)
    {
        bool toHost = kernels.AllocatesOnHost();
        foreach (var (_, p) in NamedParameters())
        {
            if (p.Value.IsOnHost == toHost) continue;
            var moved = kernels.Allocate(p.Value.Shape);
            moved.Buffer.CopyFrom(p.Value.ToArray());
            p.Replace(moved);
        }
    }

    public int ParameterCount => TrainableParameters().Sum(p => p.Value.Size);

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    public override string ToString() => GetType().Name;
}
