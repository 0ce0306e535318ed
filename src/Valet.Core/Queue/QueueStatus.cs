using System.Globalization;
using Valet.Core.Items;

namespace Valet.Core.Queue;

public enum QueueStage { Waiting, Blocked, Buildable, Left, Cancelled }

/// <summary>Where a queue item stands now, and why, as clients are told.</summary>
public sealed record QueueStatus(QueueStage Stage, string? Why)
{
    /// <param name="runningNumber">The number of the job's running build, if any.</param>
    public static QueueStatus Of(QueueItem item, Item job, long? runningNumber, long now)
    {
        switch (item.State)
        {
            case QueueState.Cancelled:
                return new(QueueStage.Cancelled, null);
            case QueueState.Left:
                return new(QueueStage.Left, null);
        }
        if (item.DueAt > now)
        {
            var seconds = (item.DueAt - now) / 1000.0;
            return new(QueueStage.Waiting, string.Create(CultureInfo.InvariantCulture, $"In the quiet period. Expires in {seconds:0.#} sec"));
        }
        if (!job.Job!.Concurrent && runningNumber is { } n)
            return new(QueueStage.Blocked, $"Build #{n} is already in progress");
        return new(QueueStage.Buildable, "Waiting for next available executor");
    }
}
