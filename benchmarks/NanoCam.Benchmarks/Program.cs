using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using NanoCam.Benchmarks.Infrastructure;

// Every benchmark class in this assembly; pick with --filter (see benchmarks/README.md). The GFLOP/s column (and, for
// the explanation benchmarks, the Overhead and × forward columns) is added
// here so that every run, whatever its filter or job, reports it next to Mean and Allocated.
var config = DefaultConfig.Instance.AddColumn(GflopsColumn.Instance, OverheadColumn.Absolute, OverheadColumn.Relative);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
