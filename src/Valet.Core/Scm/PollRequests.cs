using System.Threading.Channels;

namespace Valet.Core.Scm;

/// <summary>
/// Jobs waiting for a polling run. A request for a job already waiting coalesces into that run; one
/// arriving while the job's poll runs queues exactly one more, because the running poll may have read
/// the remote head before the change it announces.
/// </summary>
public sealed class PollRequests
{
    enum State { Waiting, Running, RunningAgain }

    readonly Lock gate = new();
    readonly Dictionary<long, State> states = [];
    readonly Channel<long> waiting = Channel.CreateUnbounded<long>();

    /// <summary>How many jobs are waiting for a polling run or being polled.</summary>
    public int Pending
    {
        get
        {
            lock (gate)
                return states.Count;
        }
    }

    /// <summary>Asks for a polling run of the job; false when it coalesced into one already asked for.</summary>
    public bool Request(long jobId)
    {
        lock (gate)
        {
            switch (states.GetValueOrDefault(jobId, (State)(-1)))
            {
                case State.Waiting or State.RunningAgain:
                    return false;
                case State.Running:
                    states[jobId] = State.RunningAgain;
                    return true;
                default:
                    states[jobId] = State.Waiting;
                    waiting.Writer.TryWrite(jobId);
                    return true;
            }
        }
    }

    /// <summary>The next job to poll; it stays marked running until <see cref="Done"/>.</summary>
    public async Task<long> TakeAsync(CancellationToken ct)
    {
        var jobId = await waiting.Reader.ReadAsync(ct);
        lock (gate)
            states[jobId] = State.Running;
        return jobId;
    }

    public void Done(long jobId)
    {
        lock (gate)
        {
            if (states.GetValueOrDefault(jobId) == State.RunningAgain)
            {
                states[jobId] = State.Waiting;
                waiting.Writer.TryWrite(jobId);
            }
            else
                states.Remove(jobId);
        }
    }
}
