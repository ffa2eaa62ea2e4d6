namespace NanoCam.Explain;

/// <summary>What a CAM method may read to weigh the channels: the capture, and the model and input for methods that run more passes.</summary>
public sealed record CamContext(LayerCapture Capture, IExplainable Model, Tensor Input, CamExplainer Explainer, CamTarget Target);
