using System.CommandLine;
using NanoCam.Cli;
using NanoCam.Cli.Commands;

var root = new RootCommand("nanocam — a from-scratch CNN engine and CAM-family explanations (CAM, Grad-CAM, Guided Backprop, …) in pure .NET");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(CamCommand.Create());
root.Subcommands.Add(ExplainCommand.Create());
root.Subcommands.Add(EvaluateExplanationsCommand.Create());
root.Subcommands.Add(LayersCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(WalkthroughCommand.Create());
return CliRunner.Invoke(root, args);
