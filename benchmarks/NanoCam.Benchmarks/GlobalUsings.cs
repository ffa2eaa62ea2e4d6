// The namespaces nearly every benchmark class reads: BenchmarkDotNet's attributes, this project's columns and helpers,
// the SIMD backend.
global using BenchmarkDotNet.Attributes;
global using NanoCam.Benchmarks.Infrastructure;
global using NanoCam.Cpu.Simd;
