using Valet.Core.Items;

namespace Valet.Core.Queue;

public enum QueueState { Queued, Left, Cancelled }

/// <summary>A queue item as stored. Waiting, blocked and buildable are views of Queued, decided at read time.</summary>
public sealed record QueueItem(
    long Id, long JobId, QueueState State, long DueAt, long InQueueSince,
    IReadOnlyList<ParameterValue>? Parameters, IReadOnlyList<Cause> Causes, long? BuildNumber, long? LeftAt)
{
    /// <summary>Distinct causes past <see cref="Cause.MaxDistinct"/> that folded in and were only counted.</summary>
    public int DroppedCauses { get; init; }
}

public sealed record EnqueueResult(long Id, bool Folded)
{
    /// <summary>Nothing was queued: the job already holds <c>server.maxQueuedPerJob</c> waiting items (limits.md §1).</summary>
    public bool Full { get; init; }
}

public enum CancelOutcome { Cancelled, NotFound, AlreadyLeft }
