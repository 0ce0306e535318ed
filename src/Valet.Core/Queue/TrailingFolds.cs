using System.Runtime.CompilerServices;
using Valet.Core.Storage;

namespace Valet.Core.Queue;

/// <summary>
/// Folds whose cause count trails their 303 (build-token-root.md §6), for SQLite's one server: a
/// fold that moves nothing earlier into an item already on disk is answered at once, and its cause
/// reaches the disk with the next flush, within <see cref="FlushAfter"/>. Reads of queue items add
/// the causes not yet written, so the API shows every count at once.
/// <para>
/// The waiting items known here are told by the writer: an item is usable once the write that
/// queued it (or folded into it) is on disk, and leaves as the write that claims or cancels it runs,
/// in the writer's order, so no fold is ever answered with an item an executor took before it. A
/// claim takes the item's causes not yet written into its build. Where several servers write, every
/// fold commits before its 303 and nothing here is used.
/// </para>
/// </summary>
internal sealed class TrailingFolds
{
    static readonly ConditionalWeakTable<Database, TrailingFolds> All = [];

    public static TrailingFolds? Of(Database db) => db.Shared ? null : All.GetValue(db, d => new TrailingFolds(d));

    /// <summary>How long a cause may wait before it is written: within the second the spec allows.</summary>
    public static readonly TimeSpan FlushAfter = TimeSpan.FromMilliseconds(250);

    readonly Database db;
    readonly Lock gate = new();

    sealed class Entry(long id, long dueAt)
    {
        public long Id { get; } = id;
        public long DueAt { get; set; } = dueAt;
        public bool OnDisk { get; set; }
    }

    // The waiting item of each kind (job, fold key), and each item's kind.
    readonly Dictionary<(long JobId, string? Key), Entry> waiting = [];
    readonly Dictionary<long, (long JobId, string? Key)> kinds = [];
    // Causes answered but not yet written, per item.
    Dictionary<long, List<Cause>> unwritten = [];
    // Raised as a flush takes the unwritten causes: a read that overlapped it reads again.
    long flushes;
    Task? flushing;
    bool flushScheduled;

    TrailingFolds(Database db) => this.db = db;

    /// <summary>
    /// Folds <paramref name="cause"/> into the waiting item of its kind when that item is on disk and
    /// due no later than <paramref name="dueAt"/>; false when the fold must go through the writer.
    /// </summary>
    public bool TryFold(long jobId, string? key, long dueAt, Cause cause, out long id)
    {
        bool schedule;
        lock (gate)
        {
            if (!waiting.TryGetValue((jobId, key), out var entry) || !entry.OnDisk || dueAt < entry.DueAt)
            {
                id = 0;
                return false;
            }
            id = entry.Id;
            if (!unwritten.TryGetValue(id, out var causes))
                unwritten[id] = causes = [];
            Cause.Add(causes, cause);
            schedule = !flushScheduled;
            flushScheduled = true;
        }
        if (schedule)
            _ = FlushSoonAsync();
        return true;
    }

    /// <summary>Called by the writer as it queues or folds into item <paramref name="id"/>; usable once <see cref="OnDisk"/> says so.</summary>
    public void Waiting(long jobId, string? key, long id, long dueAt)
    {
        lock (gate)
        {
            if (waiting.TryGetValue((jobId, key), out var known) && (known.Id == id || known.OnDisk))
                return;
            if (known is not null)
                kinds.Remove(known.Id);
            waiting[(jobId, key)] = new Entry(id, dueAt);
            kinds[id] = (jobId, key);
        }
    }

    /// <summary>The write that queued or folded into <paramref name="id"/> is on disk, its due time with it.</summary>
    public void OnDisk(long id, long dueAt)
    {
        lock (gate)
        {
            if (kinds.TryGetValue(id, out var kind) && waiting[kind] is { } entry)
            {
                entry.DueAt = entry.OnDisk ? Math.Min(entry.DueAt, dueAt) : dueAt;
                entry.OnDisk = true;
            }
        }
    }

    /// <summary>
    /// Called by the writer as item <paramref name="id"/> leaves the queue: folds no longer go to it.
    /// A claim takes its unwritten causes (they go into the build); a cancelled item keeps them for the flush.
    /// </summary>
    public List<Cause>? Left(long id, bool takeCauses)
    {
        lock (gate)
        {
            if (kinds.Remove(id, out var kind))
                waiting.Remove(kind);
            return takeCauses && unwritten.Remove(id, out var causes) ? causes : null;
        }
    }

    /// <summary>Every waiting item of <paramref name="jobId"/> was cancelled.</summary>
    public void JobLeft(long jobId)
    {
        lock (gate)
        {
            foreach (var kind in waiting.Keys.Where(k => k.JobId == jobId).ToList())
            {
                kinds.Remove(waiting[kind].Id);
                waiting.Remove(kind);
            }
        }
    }

    async Task FlushSoonAsync()
    {
        // Real time on purpose: the spec bounds how long a count stays off the disk, whatever the clock says.
        await Task.Delay(FlushAfter, TimeProvider.System, CancellationToken.None);
        await FlushAsync();
    }

    /// <summary>Writes every unwritten cause now (also as the server stops).</summary>
    public async Task FlushAsync()
    {
        Dictionary<long, List<Cause>>? taken = null;
        var done = new TaskCompletionSource();
        try
        {
            // The causes are taken in the writer, in its order: a claim before this write took its
            // item's causes itself, a claim after it finds them in the row.
            await db.WriteAsync(async s =>
            {
                lock (gate)
                {
                    flushScheduled = false;
                    if (unwritten.Count == 0)
                        return 0;
                    taken = unwritten;
                    unwritten = [];
                    flushes++;
                    flushing = done.Task;
                }
                foreach (var (id, causes) in taken)
                    await AddCausesAsync(s, id, causes);
                return taken.Count;
            }, CancellationToken.None);
        }
        catch (Exception)
        {
            // Not written (the store refuses writes): kept, still shown, and tried again.
            bool schedule;
            lock (gate)
            {
                foreach (var (id, causes) in taken ?? [])
                {
                    if (!unwritten.TryGetValue(id, out var kept))
                        unwritten[id] = kept = [];
                    foreach (var c in causes)
                        Cause.Add(kept, c);
                }
                schedule = unwritten.Count > 0;
                flushScheduled = schedule;
            }
            if (schedule)
                _ = FlushSoonAsync();
        }
        finally
        {
            lock (gate)
            {
                if (flushing == done.Task)
                    flushing = null;
            }
            done.TrySetResult();
        }
    }

    /// <summary>Adds causes to an item's row, whatever its state (a cancelled item keeps its count).</summary>
    public static async Task AddCausesAsync(Session s, long id, IEnumerable<Cause> added)
    {
        var stored = await s.ExecuteScalarAsync<string>("SELECT causes FROM queue_item WHERE id = @id", new { id });
        if (stored is null)
            return;
        var causes = Json.Read<List<Cause>>(stored);
        foreach (var c in added)
            Cause.Add(causes, c);
        await s.ExecuteAsync("UPDATE queue_item SET causes = @causes WHERE id = @id", new { causes = Json.Write(causes), id });
    }

    /// <summary>
    /// Runs a read of queue items and adds the causes not yet written. A read that overlaps a flush
    /// cannot tell whether its rows hold the flushed causes, so it waits for the flush and reads again.
    /// </summary>
    public async Task<IReadOnlyList<QueueItem>> ReadAsync(Func<Task<IReadOnlyList<QueueItem>>> read)
    {
        while (true)
        {
            long before;
            Task? busy;
            lock (gate)
            {
                before = flushes;
                busy = flushing;
            }
            if (busy is not null)
            {
                await busy;
                continue;
            }
            var items = await read();
            lock (gate)
            {
                if (flushing is not null || flushes != before)
                    continue;
                if (unwritten.Count == 0)
                    return items;
                return items.Select(i => unwritten.TryGetValue(i.Id, out var causes) ? WithCauses(i, causes) : i).ToList();
            }
        }
    }

    public static QueueItem WithCauses(QueueItem item, IEnumerable<Cause> added)
    {
        // As stored: the item's dropped count rides at the end of its list, so the cap holds for the sum.
        var causes = item.Causes.ToList();
        if (item.DroppedCauses > 0)
            causes.Add(new Cause(CauseKind.Dropped, Count: item.DroppedCauses));
        foreach (var c in added)
            Cause.Add(causes, c);
        var (kept, dropped) = Cause.Split(causes);
        return item with { Causes = kept, DroppedCauses = dropped };
    }
}
