using NanoCam.Autodiff;
using NanoCam.Ops;

namespace NanoCam.Nn.Modules;

/// <summary>
/// Children applied in order, named "0", "1", … (or as given); each child's output is published under its path, with one
/// exception in training passes: a ReLU followed by an unpadded max pool runs after the pool (see <see cref="PoolsFirst"/>).
/// </summary>
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
        for (int i = 0; i < Children.Count; i++)
        {
            var module = Children[i].Module;
            if (i + 1 < Children.Count && Children[i + 1].Module is MaxPool2d pool && PoolsFirst(tape, module, pool))
            {
                x = tape.Publish(tape.Relu(pool.Forward(tape, x)), pool.Path);
                i++;
                continue;
            }
            x = module.Call(tape, x);
        }
        return x;
    }

    /// <summary>
    /// Whether ReLU then max pool runs as max pool then ReLU: max over a window commutes with the monotone ReLU, so
    /// relu(pool(x)) = pool(relu(x)) cell for cell, and the gradients agree too (a window whose maximum is positive
    /// routes to the same first maximum either way; any other window passes nothing). The ReLU then touches a quarter of
    /// the cells (2×2 windows), forward and backward. Only in training passes, and only when nobody asked for the
    /// ReLU's own output (<see cref="Tape.IsObserved"/>), which this order never computes.
    /// </summary>
    private static bool PoolsFirst(Tape tape, Module module, MaxPool2d pool) =>
        module is ReLU && pool.Padding == 0 && tape.Training && tape.GradEnabled && !tape.IsObserved(module.Path);
}
