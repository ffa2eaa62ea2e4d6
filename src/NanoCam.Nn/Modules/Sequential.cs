using NanoCam.Autodiff;

namespace NanoCam.Nn.Modules;

/// <summary>Children applied in order, named "0", "1", … (or as given); each child's output is published under its path.</summary>
public sealed class Sequential : Module
{
    public Sequential(params Module[] layers)
    {
        for (int i = 0; i < layers.Length; i++) AddChild(i.ToString(System.Globalization.CultureInfo.InvariantCulture), layers[i]);
    }

    public Sequential(params (string Name, Module Layer)[] layers)
    {
        foreach (var (name, layer) in layers) AddChild(name, layer);
    }

    public override Tensor Forward(Tape tape, Tensor input)
    {
        var x = input;
        // An index loop: foreach over the interface would box an enumerator every step.
        for (int i = 0; i < Children.Count; i++) x = Children[i].Module.Call(tape, x);
        return x;
    }
}
