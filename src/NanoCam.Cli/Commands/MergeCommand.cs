using System.CommandLine;
using NanoCam.Cli.Shared;

namespace NanoCam.Cli.Commands;

/// <summary><c>nanocam merge</c>: joins the shards of one explain-dataset run (one folder or several) into one results folder and table.</summary>
public static class MergeCommand
{
    public static Command Create()
    {
        var folders = new Argument<string[]>("RESULTS_DIR") { Description = "the --out folders of the shards (the same folder once when they shared one)", Arity = ArgumentArity.OneOrMore };
        var output = CliOptions.Path("--out", "the merged results folder (default: the first RESULTS_DIR); maps and parts of other folders are copied there", PathRole.OutputFolder);
        var csv = CliOptions.Make("--csv", "also write results.csv", false);
        var command = new Command("merge", "Join the shards of an explain-dataset run into one results.parquet (and results.csv) and its gallery, index.html") { folders, output, csv };
        command.SetAction(p => CliRunner.Guard(() =>
        {
            var sources = p.GetValue(folders)!;
            string target = p.GetValue(output) ?? sources[0];
            var (rows, chunks) = ResultsFolder.Merge(sources, target, p.GetValue(csv));
            Console.WriteLine($"{chunks} chunks from {sources.Distinct().Count()} folder(s), {rows} rows written to {Path.Combine(target, ResultsFolder.Table)}"
                + (p.GetValue(csv) ? $", {ResultsFolder.CsvTable}" : "") + $" and the gallery {Gallery.Page}");
            return 0;
        }));
        return command;
    }
}
