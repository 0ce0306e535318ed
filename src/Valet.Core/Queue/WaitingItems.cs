using Valet.Core.Storage;

namespace Valet.Core.Queue;

/// <summary>
/// Which waiting item a kind of request (job and fold key) folds into, and whether a job may take
/// one more. SQLite's one writer keeps this in a map (<see cref="FoldMap"/>); where several servers
/// write, it is read from the rows, and a unique index on the waiting items' fold key keeps two
/// servers from queueing the same kind twice.
/// </summary>
internal interface IWaitingItems
{
    Task<WaitingItem?> FindAsync(Session s, long jobId, string? key);

    Task<bool> HasRoomAsync(Session s, long jobId, long max);

    /// <summary>Told right after a new waiting item was inserted.</summary>
    void Added(long jobId, string? key, long id);
}

internal sealed record WaitingItem(long Id, string Causes, long DueAt);

internal static class WaitingItems
{
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Database, SharedWaitingItems> Shared = [];

    public static IWaitingItems Of(Database db) => db.Shared ? Shared.GetValue(db, _ => new SharedWaitingItems()) : FoldMap.Of(db);
}

/// <summary>The waiting items as rows, for a store several servers write.</summary>
internal sealed class SharedWaitingItems : IWaitingItems
{
    // Written as the unique index on waiting items is (job_id, COALESCE(params_key, '')), so it finds
    // the row through that index instead of reading every waiting item of the job.
    // Locked until the write commits: the fold that follows rewrites the item's causes from what this
    // read, so another server's fold into the same item waits for it instead of overwriting its count.
    static readonly Statement FirstQueued = new(
        "SELECT id, causes, due_at FROM queue_item WHERE job_id = @JobId AND state = 'queued' AND COALESCE(params_key, '') = COALESCE(@Key, '') ORDER BY id LIMIT 1 FOR UPDATE");

    static readonly Statement CountQueued = new(
        "SELECT COUNT(*) FROM (SELECT 1 FROM queue_item WHERE job_id = @JobId AND state = 'queued' LIMIT @Max) AS waiting");

    public Task<WaitingItem?> FindAsync(Session s, long jobId, string? key) =>
        s.QueryFirstOrDefaultAsync<WaitingItem>(FirstQueued, new { JobId = jobId, Key = key });

    // Per job, the waiting items counted at most a second ago plus those this server queued since.
    // Counting the job's rows for every new item costs as much as its queue is long; this way a job
    // is counted at most once a second, and at its limit. Other servers' items of that second are not
    // in it, so with several servers a job may pass server.maxQueuedPerJob by what they queued within
    // one second; one server never passes it.
    readonly System.Collections.Concurrent.ConcurrentDictionary<long, (long Count, long At)> counted = new();
    const long RecountMilliseconds = 1000;

    public async Task<bool> HasRoomAsync(Session s, long jobId, long max)
    {
        var now = Environment.TickCount64;
        if (!counted.TryGetValue(jobId, out var known) || known.Count >= max || now - known.At > RecountMilliseconds)
            counted[jobId] = known = (await s.QueryFirstOrDefaultAsync<long>(CountQueued, new { JobId = jobId, Max = max }), now);
        return known.Count < max;
    }

    public void Added(long jobId, string? key, long id) =>
        counted.AddOrUpdate(jobId, static _ => (1, 0), static (_, known) => (known.Count + 1, known.At));
}
