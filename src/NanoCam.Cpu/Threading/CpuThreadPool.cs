using System.Diagnostics;

namespace NanoCam.Cpu.Threading;

/// <summary>A body of parallel work: Execute(i) for every i in [0, count), in any order, on any thread.</summary>
public interface IParallelBody
{
    void Execute(int index);
}

/// <summary>
/// A fixed set of worker threads that run <see cref="IParallelBody"/> loops without allocating: the calling thread
/// works too, indices are handed out by an atomic counter, and the call returns when every index is done.
/// With one thread it runs the loop inline, in order (the determinism mode).
/// Not re-entrant: one loop at a time per pool (a body must not call <see cref="For"/> on the same pool).
/// </summary>
public sealed class CpuThreadPool : IDisposable
{
    /// <summary>How long an idle worker watches for the next loop before it blocks.</summary>
    private const int SpinMicroseconds = 200;

    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _start = new(0);
    private IParallelBody? _body;
    private int _count;
    private int _next;
    private int _running;
    private volatile bool _disposed;
    private Exception? _failure;

    public CpuThreadPool(int threads)
    {
        if (threads < 1) throw new ArgumentException($"threads must be at least 1, got {threads}");
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"nanocam-cpu-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Number of threads that run a loop, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs body.Execute(i) for i in [0, count) across the pool and waits for all of them.</summary>
    public void For(int count, IParallelBody body)
    {
        if (count <= 0) return;
        if (Threads == 1 || count == 1)
        {
            for (int i = 0; i < count; i++) body.Execute(i);
            return;
        }
        _body = body;
        _count = count;
        _next = 0;
        _failure = null;
        int helpers = Math.Min(_workers.Length, count - 1);
        Volatile.Write(ref _running, helpers);
        _start.Release(helpers);
        try
        {
            Drain(body, count);
        }
        catch (Exception e)
        {
            // As a worker's failure: stop handing out indices, and still wait below for the helpers that started.
            Interlocked.CompareExchange(ref _failure, e, null);
            Volatile.Write(ref _next, int.MaxValue / 2);
        }
        // Every index is taken. A helper that has not woken yet (its core lent to another process) is not waited for:
        // its permit is taken back, so the loop ends when the helpers that did start have finished their indices.
        while (Volatile.Read(ref _running) > 0 && _start.Wait(0)) Interlocked.Decrement(ref _running);
        var spin = new SpinWait();
        while (Volatile.Read(ref _running) > 0) spin.SpinOnce(sleep1Threshold: -1);
        _body = null;
        if (_failure is { } failure) throw new AggregateException(failure);
    }

    private void Drain(IParallelBody body, int count)
    {
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < count) body.Execute(i);
    }

    private void WorkerLoop()
    {
        while (true)
        {
            // Spin a while before blocking: a training step or a blocked GEMM runs hundreds of short loops back to
            // back, and waking a blocked thread costs tens of microseconds on a VM. A permit released while this
            // worker spins is taken by Wait without blocking (Release signals only when a thread is blocked).
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            while (_start.CurrentCount == 0 && !_disposed && Stopwatch.GetTimestamp() < deadline) Thread.SpinWait(20);
            _start.Wait();
            if (_disposed) return;
            try
            {
                Drain(_body!, _count);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
                Volatile.Write(ref _next, int.MaxValue / 2);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        if (_workers.Length > 0) _start.Release(_workers.Length);
    }
}
