using NanoCam.Autodiff;

namespace NanoCam.Ops;

public static partial class TapeOps
{
    /// <summary>a + b with NumPy broadcasting (a bias [C,1,1] over [N,C,H,W], for example).</summary>
    public static Tensor Add(this Tape tape, Tensor a, Tensor b) => tape.Binary(BinaryOp.Add, a, b);
    public static Tensor Sub(this Tape tape, Tensor a, Tensor b) => tape.Binary(BinaryOp.Sub, a, b);
    public static Tensor Mul(this Tape tape, Tensor a, Tensor b) => tape.Binary(BinaryOp.Mul, a, b);
    public static Tensor Div(this Tape tape, Tensor a, Tensor b) => tape.Binary(BinaryOp.Div, a, b);

    public static Tensor Binary(this Tape tape, BinaryOp op, Tensor a, Tensor b) =>
        tape.Next<BinaryNode>().Forward(tape, op, a, b);

    /// <summary>The NumPy broadcast of two shapes: align on the right; each pair of sizes must be equal or one of them 1.</summary>
    public static int[] BroadcastShape(Shape a, Shape b, string op = "broadcast")
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a[i - (rank - a.Rank)];
            int db = i < rank - b.Rank ? 1 : b[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {a} and {b} do not broadcast (axis {i}: {da} vs {db})");
            dims[i] = da == 1 ? db : da;
        }
        return dims;
    }
}

/// <summary>Element-wise a∘b with broadcasting; backward sums the gradient over the broadcast axes of each operand.</summary>
public sealed class BinaryNode : BroadcastBinaryNode<BinaryOp>
{
    private static readonly string[] KindNames = Enum.GetNames<BinaryOp>();

    public override string Kind => KindNames[(int)Op];

    internal Tensor Forward(Tape tape, BinaryOp op, Tensor a, Tensor b)
    {
        var output = Record(tape, op, a, b, static op => KindNames[(int)op].ToLowerInvariant());
        tape.Kernels.BinaryForward(op, output, a, b);
        return output;
    }

    public override void Backward(IKernels kernels)
    {
        var dA = GradOf(A);
        var dB = GradOf(B);
        if (dA is not null || dB is not null) kernels.BinaryBackward(Op, dA, dB, Output.Grad!, A, B);
    }

    /// <summary>
    /// Taped: a + b → (g, g); a − b → (g, −g); a·b → (g·b, g·a); a / b → (g / b, −g·a / b²), each summed back over the
    /// axes its operand was broadcast along.
    /// </summary>
    public override Tensor?[] BackwardTaped(Tape tape, Tensor gradOutput)
    {
        var g = gradOutput;
        Tensor? dA = null, dB = null;
        if (WantsGradient(tape, A))
            dA = Op switch { BinaryOp.Mul => tape.Mul(g, B), BinaryOp.Div => tape.Div(g, B), _ => g };
        if (WantsGradient(tape, B))
            dB = Op switch
            {
                BinaryOp.Add => g,
                BinaryOp.Sub => tape.Unary(g, new Elementwise.Neg()),
                BinaryOp.Mul => tape.Mul(g, A),
                _ => tape.Unary(tape.Div(tape.Mul(g, A), tape.Mul(B, B)), new Elementwise.Neg()),
            };
        return TapedGradients(dA is null ? null : tape.SumToShape(dA, A.Shape), dB is null ? null : tape.SumToShape(dB, B.Shape));
    }
}

/// <summary>
/// An element-wise node of two operands broadcast NumPy-style (<see cref="BinaryNode"/>, <see cref="BinaryFunctionNode{TOp}"/>):
/// the operation, a and b, and their broadcast shape, recomputed only when an operand's shape changed (a steady pass
/// allocates nothing).
/// </summary>
public abstract class BroadcastBinaryNode<TOp> : Node
{
    private int[]? _dims;
    private Shape? _lastA, _lastB;

    public TOp Op { get; private set; } = default!;
    public Tensor A => Inputs[0];
    public Tensor B => Inputs[1];

    /// <summary>Records <paramref name="op"/>, a and b, and returns the output of their broadcast shape; an error names the op by <paramref name="name"/>(op).</summary>
    private protected Tensor Record(Tape tape, TOp op, Tensor a, Tensor b, Func<TOp, string> name)
    {
        Op = op;
        SetInputs(a, b);
        if (_dims is null || a.Shape != _lastA || b.Shape != _lastB)
        {
            _dims = TapeOps.BroadcastShape(a.Shape, b.Shape, name(op));
            (_lastA, _lastB) = (a.Shape, b.Shape);
        }
        return EnsureOutput(tape, _dims);
    }
}
