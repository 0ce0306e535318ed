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
    static readonly SharedWaitingItems Shared = new();

    public static IWaitingItems Of(Database db) => db.Shared ? Shared : FoldMap.Of(db);
}

/// <summary>The waiting items as rows, for a store several servers write.</summary>
internal sealed class SharedWaitingItems : IWaitingItems
{
    // Locked until the write commits: the fold that follows rewrites the item's causes from what this
    // read, so another server's fold into the same item waits for it instead of overwriting its count.
    static readonly Statement FirstQueued = new(
        "SELECT id, causes, due_at FROM queue_item WHERE job_id = @JobId AND state = 'queued' AND params_key IS NOT DISTINCT FROM @Key ORDER BY id LIMIT 1 FOR UPDATE");

    static readonly Statement CountQueued = new(
        "SELECT COUNT(*) FROM (SELECT 1 FROM queue_item WHERE job_id = @JobId AND state = 'queued' LIMIT @Max) AS waiting");

    public Task<WaitingItem?> FindAsync(Session s, long jobId, string? key) =>
        s.QueryFirstOrDefaultAsync<WaitingItem>(FirstQueued, new { JobId = jobId, Key = key });

    public async Task<bool> HasRoomAsync(Session s, long jobId, long max) =>
        await s.QueryFirstOrDefaultAsync<long>(CountQueued, new { JobId = jobId, Max = max }) < max;

    public void Added(long jobId, string? key, long id)
    {
    }
}
