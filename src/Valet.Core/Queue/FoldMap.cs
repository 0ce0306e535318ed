using System.Runtime.CompilerServices;
using Valet.Core.Storage;

namespace Valet.Core.Queue;

/// <summary>
/// Which waiting item each kind of request (job and fold key) folds into. Only <see cref="BuildQueue"/>
/// inserts queue items, always in the database's one writer, and the map lives there too: loaded from
/// the queued items at the first look-up, told of every insert, so it knows every waiting item without
/// an index on the fold key, which would cost each new item a write to a random index page: under a
/// stream of new items, most of what the writer appends to the log. A hit is checked against the
/// row, which may have left the queue or had its insert rolled back; the map is never trusted alone.
/// It also keeps, per job, a count of waiting items that never errs low, for server.maxQueuedPerJob.
/// One map per database, shared by every <see cref="BuildQueue"/> on it, and used by the writer only.
/// A store with several writing processes holds this rule in its schema instead (a unique index on
/// the waiting items' fold key): the map is an accelerator of SQLite's one writer.
/// </summary>
internal sealed class FoldMap : IWaitingItems
{
    static readonly ConditionalWeakTable<Database, FoldMap> Maps = [];

    public static FoldMap Of(Database db) => Maps.GetValue(db, _ => new FoldMap());

    static readonly Statement ById = new(
        "SELECT id, causes, due_at FROM queue_item WHERE id = @Id AND job_id = @JobId AND state = 'queued' AND params_key IS @Key");
    // The first waiting item of the kind, found through the job's (job_id, state) index.
    static readonly Statement FirstQueued = new(
        "SELECT id, causes, due_at FROM queue_item WHERE job_id = @JobId AND state = 'queued' AND params_key IS @Key ORDER BY id LIMIT 1");

    readonly Dictionary<(long JobId, string? Key), long> items = [];
    bool loaded;
    // Entries of items that left stay until their kind comes again. Past this many entries a sample
    // is checked, and the map is loaded afresh if most of it left.
    int checkAt;
    const int Sample = 64;

    /// <summary>The waiting item a request of this kind folds into, or null when none waits.</summary>
    public async Task<WaitingItem?> FindAsync(Session s, long jobId, string? key)
    {
        if (!loaded)
            await LoadAsync(s);
        else if (items.Count > checkAt)
            await PruneAsync(s);
        if (!items.TryGetValue((jobId, key), out var id))
            return null;
        if (await s.QueryFirstOrDefaultAsync<WaitingItem>(ById, new { Id = id, JobId = jobId, Key = key }) is { } known)
            return known;
        // That item left the queue; another of the kind may still wait (queued before the map kept
        // one item per kind), which the job's index finds among its waiting items.
        items.Remove((jobId, key));
        var other = await s.QueryFirstOrDefaultAsync<WaitingItem>(FirstQueued, new { JobId = jobId, Key = key });
        if (other is not null)
            items[(jobId, key)] = other.Id;
        return other;
    }

    /// <summary>Entries, for tests.</summary>
    internal int Count => items.Count;

    /// <summary>Called by the writer right after it inserted a new waiting item.</summary>
    public void Added(long jobId, string? key, long id)
    {
        items[(jobId, key)] = id;
        if (queuedAtMost.TryGetValue(jobId, out var count))
            queuedAtMost[jobId] = count + 1;
    }

    // Per job, at least as many as its waiting items: every insert is counted here, while items that
    // leave the queue are not, so the count only ever errs high (a rolled-back insert included).
    readonly Dictionary<long, long> queuedAtMost = [];

    // Bounded by the limit, so a recount reads at most that many entries of the job's (job_id, state) index.
    static readonly Statement CountQueued = new(
        "SELECT COUNT(*) FROM (SELECT 1 FROM queue_item WHERE job_id = @JobId AND state = 'queued' LIMIT @Max)");

    /// <summary>
    /// Whether the job may take one more waiting item (server.maxQueuedPerJob). The rows are counted
    /// only when the kept count says the job is at its limit, so a new item does not cost a count of
    /// the job's queue; below the limit the kept count, never too low, is enough.
    /// </summary>
    public async Task<bool> HasRoomAsync(Session s, long jobId, long max)
    {
        if (!queuedAtMost.TryGetValue(jobId, out var count) || count >= max)
            queuedAtMost[jobId] = count = await s.QueryFirstOrDefaultAsync<long>(CountQueued, new { JobId = jobId, Max = max });
        return count < max;
    }

    async Task LoadAsync(Session s)
    {
        items.Clear();
        foreach (var (id, jobId, key) in await s.QueryAsync<(long, long, string?)>(
            "SELECT id, job_id, params_key FROM queue_item WHERE state = 'queued' ORDER BY id"))
            items.TryAdd((jobId, key), id);
        loaded = true;
        checkAt = 2 * items.Count + 10_000;
    }

    /// <summary>
    /// Reloads only when most of a sample of entries, spread over the map, left the queue: a queue
    /// that only grows, with many items waiting, is never read whole again, which would hold the
    /// writer for as long as a long queue takes to read.
    /// </summary>
    async Task PruneAsync(Session s)
    {
        var left = 0;
        // Spread over the whole map, not its oldest entries: long-waiting items at its start (a job
        // whose items wait for hours) would otherwise keep it from ever seeing that the entries after
        // them left, and it would grow by one entry per item that ever waited.
        var stride = Math.Max(1, items.Count / Sample);
        foreach (var ((jobId, key), id) in items.Where((_, i) => i % stride == 0).Take(Sample).ToList())
        {
            if (await s.QueryFirstOrDefaultAsync<WaitingItem>(ById, new { Id = id, JobId = jobId, Key = key }) is null)
                left++;
        }
        if (2 * left > Sample)
            await LoadAsync(s);
        else
            checkAt = 2 * items.Count;
    }
}
