namespace NanoCam.Autodiff;

/// <summary>A replacement backward rule for every node of one kind (e.g. Guided Backprop's rule for "Relu").</summary>
public delegate void BackwardRule(Node node, IKernels kernels);
