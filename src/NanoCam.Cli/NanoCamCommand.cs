using System.CommandLine;
using NanoCam.Cli.Commands;

namespace NanoCam.Cli;

/// <summary>The <c>nanocam</c> root command with every verb, as Program runs it and as tests parse it.</summary>
public static class NanoCamCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("nanocam — a from-scratch CNN engine and CAM-family explanations (CAM, Grad-CAM, Guided Backprop, …) in pure .NET");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(CamCommand.Create());
        root.Subcommands.Add(ExplainCommand.Create());
        root.Subcommands.Add(EvaluateExplanationsCommand.Create());
        root.Subcommands.Add(ExplainDatasetCommand.Create());
        root.Subcommands.Add(MergeCommand.Create());
        root.Subcommands.Add(LayersCommand.Create());
        root.Subcommands.Add(PredictCommand.Create());
        root.Subcommands.Add(WalkthroughCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(GapSurgeryCommand.Create());
        return root;
    }
}
