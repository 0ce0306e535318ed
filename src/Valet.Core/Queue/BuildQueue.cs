using Microsoft.Extensions.Hosting;
using Valet.Core.Configuration;
using System.Globalization;
using System.Text;
using Valet.Core.Items;
using Valet.Core.Security;
using Valet.Core.Storage;

namespace Valet.Core.Queue;

/// <summary>
/// The durable build queue. Every change is committed before its caller returns, except the cause
/// count of a fold that moves nothing earlier, which trails on SQLite (<see cref="TrailingFolds"/>);
/// equivalent requests fold into the waiting item; executors take items with an atomic claim.
/// </summary>
public sealed class BuildQueue(Database db, InstallationSecrets secrets, TimeProvider time, ServerSettings? server = null) : IHostedService
{
    readonly TrailingFolds? trailing = TrailingFolds.Of(db);

    public static readonly TimeSpan LeftItemsVisibleFor = TimeSpan.FromMinutes(5);

    readonly SemaphoreSlim changed = new(0, 1);

    sealed record Row(long Id, long JobId, string State, long DueAt, long InQueueSince, string? Params, string Causes, long? BuildNumber, long? LeftAt);

    const string Columns = "id, job_id, state, due_at, in_queue_since, params, causes, build_number, left_at";

    QueueItem ToItem(Row r)
    {
        var (causes, dropped) = Cause.Split(Json.Read<List<Cause>>(r.Causes));
        return new(r.Id, r.JobId, Enum.Parse<QueueState>(r.State, ignoreCase: true), r.DueAt, r.InQueueSince,
            StoredParameters.Unseal(r.Params, secrets), causes, r.BuildNumber, r.LeftAt)
        { DroppedCauses = dropped };
    }

    /// <summary>The folding key: an HMAC of the canonical value set, so passwords are compared without being stored in clear.</summary>
    string? FoldKey(IReadOnlyList<ParameterValue>? values)
    {
        if (values is null)
            return null;
        var canonical = new StringBuilder();
        // Length-prefixed: with a separator alone, a value holding the separator could pass for two values.
        foreach (var v in values.OrderBy(v => v.Name, StringComparer.Ordinal))
            canonical.Append(CultureInfo.InvariantCulture, $"{v.Name.Length}:{v.Name}{v.Value.Length}:{v.Value}");
        return secrets.HmacHex(canonical.ToString());
    }

    /// <summary>Queues a build of <paramref name="job"/>, or folds into an equivalent item not yet taken.</summary>
    public Task<EnqueueResult> EnqueueAsync(Item job, IReadOnlyList<ParameterValue>? values, Cause cause, DateTimeOffset due, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var key = FoldKey(values);
        if (trailing is not null && trailing.TryFold(job.Id, key, due.ToUnixTimeMilliseconds(), cause, out var id))
            return Task.FromResult(new EnqueueResult(id, Folded: true));
        var request = Pending(job, key, values, cause, due);
        bool startDrain;
        lock (pendingGate)
        {
            pending.Add(request);
            startDrain = !drainQueued;
            drainQueued = true;
        }
        if (startDrain)
            _ = DrainAsync();
        return request.Answer.Task;
    }

    /// <summary>
    /// Like <see cref="EnqueueAsync"/>, in a write of its own that first runs <paramref name="claim"/>
    /// (an idempotency key): when the claim fails nothing is queued and the answer is null; otherwise
    /// <paramref name="record"/> commits together with the item, so neither outlives the other.
    /// </summary>
    public async Task<EnqueueResult?> EnqueueOnceAsync(Item job, IReadOnlyList<ParameterValue>? values, Cause cause, DateTimeOffset due,
        Func<Session, Task<bool>> claim, Func<Session, EnqueueResult, Task> record, CancellationToken ct)
    {
        var request = Pending(job, FoldKey(values), values, cause, due);
        long earliestDue;
        try
        {
            earliestDue = await db.WriteAsync(async s =>
            {
                if (!await claim(s))
                    return long.MaxValue;
                var earliest = await ApplyAsync(s, [request]);
                // A full queue answers 503 and must not spend the key: the write rolls back.
                if (request.Result!.Full)
                    throw new QueueFullException();
                await record(s, request.Result!);
                return earliest;
            }, ct);
        }
        catch (QueueFullException)
        {
            return request.Result;
        }
        OnDisk([request]);
        WakeDispatcherFor(earliestDue);
        return request.Result;
    }

    // The fold key and the sealed values are computed by the caller, so the writer only runs SQL.
    PendingEnqueue Pending(Item job, string? key, IReadOnlyList<ParameterValue>? values, Cause cause, DateTimeOffset due) =>
        new(job.Id, key, StoredParameters.Seal(values, secrets), cause, due.ToUnixTimeMilliseconds(), time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>The items these requests queued or folded into are on disk: later folds into them may trail.</summary>
    void OnDisk(IEnumerable<PendingEnqueue> requests)
    {
        if (trailing is null)
            return;
        foreach (var r in requests)
        {
            if (r.Result is { Full: false } result)
                trailing.OnDisk(result.Id, r.ItemDueAt);
        }
    }

    /// <summary>An item due after the dispatcher wakes by itself is found then, without a wake-up now.</summary>
    void WakeDispatcherFor(long earliestDue)
    {
        if (earliestDue < Interlocked.Read(ref dispatcherWakesAt))
            Signal();
    }

    // Asked at ArrivedAt, the time its due time was reckoned from: an item's inQueueSince, however long the writer took.
    sealed record PendingEnqueue(long JobId, string? Key, string? SealedValues, Cause Cause, long DueAt, long ArrivedAt)
    {
        public EnqueueResult? Result { get; set; }
        // The due time of the item it queued or folded into, as the write left it.
        public long ItemDueAt { get; set; }
        // Continuations run synchronously on purpose: see DrainAsync.
        public TaskCompletionSource<EnqueueResult> Answer { get; } = new();
    }

    readonly Lock pendingGate = new();
    List<PendingEnqueue> pending = [];
    bool drainQueued;

    List<PendingEnqueue> TakePending()
    {
        lock (pendingGate)
        {
            var taken = pending;
            pending = [];
            // Where several servers write, this server keeps one enqueue write in flight and the
            // requests arriving meanwhile wait for the next (DrainAsync): each write then carries
            // many, where one write per request would each wait for its own commit and for the
            // row lock of the item they all fold into.
            drainQueued = db.Shared;
            return taken;
        }
    }

    /// <summary>
    /// One write takes every request waiting when the writer reaches it: requests that fold into the
    /// same item cost one read and one update together, and all are answered after the one commit.
    /// Requests arriving meanwhile start the next drain, which the writer runs in the same or the next batch.
    /// </summary>
    async Task DrainAsync()
    {
        do
            await DrainOnceAsync();
        while (db.Shared && MorePending());
    }

    bool MorePending()
    {
        lock (pendingGate)
        {
            if (pending.Count > 0)
                return true;
            drainQueued = false;
            return false;
        }
    }

    async Task DrainOnceAsync()
    {
        List<PendingEnqueue>? taken = null;
        try
        {
            WakeDispatcherFor(await db.WriteAsync(s => ApplyAsync(s, taken = TakePending()), CancellationToken.None));
            OnDisk(taken!);
        }
        catch (Exception e)
        {
            foreach (var request in taken ?? TakePending())
                request.Answer.TrySetException(e);
            return;
        }
        // The answers run here, one after another: each hands its response to the socket and returns,
        // which costs less than a thread-pool dispatch (and a thread woken) per request.
        foreach (var request in taken!)
            request.Answer.TrySetResult(request.Result!);
    }

    sealed class QueueFullException() : Exception("the job's queue is full");

    int MaxQueued => server?.MaxQueuedPerJob ?? ServerSettings.DefaultMaxQueuedPerJob;

    // Only into an item still waiting: on a shared store it may have left since it was found.
    static readonly Statement Fold = new(
        "UPDATE queue_item SET causes = @Causes, due_at = CASE WHEN @DueAt < due_at THEN @DueAt ELSE due_at END WHERE id = @Id AND state = 'queued'");
    static readonly Statement Insert = new(
        """
        INSERT INTO queue_item (job_id, state, due_at, in_queue_since, params, params_key, causes)
        VALUES (@JobId, 'queued', @DueAt, @Now, @SealedValues, @Key, @Causes) RETURNING id
        """);
    // Another server may queue the same kind meanwhile: the unique index on waiting items' fold key
    // turns the second insert into nothing, and the request folds into the first.
    static readonly Statement InsertShared = new(
        """
        INSERT INTO queue_item (job_id, state, due_at, in_queue_since, params, params_key, causes)
        VALUES (@JobId, 'queued', @DueAt, @Now, @SealedValues, @Key, @Causes)
        ON CONFLICT (job_id, (COALESCE(params_key, ''))) WHERE state = 'queued' DO NOTHING RETURNING id
        """);

    /// <summary>
    /// Applies the requests in arrival order: the first of a kind queues (unless an item waits already),
    /// the rest fold. Returns the earliest due time of the items queued or moved earlier (news for the
    /// dispatcher), or long.MaxValue when there is none.
    /// </summary>
    Task<long> ApplyAsync(Session s, List<PendingEnqueue> requests) =>
        db.Shared && requests.Count > 1 ? ApplyTogetherAsync(s, requests) : ApplyEachAsync(s, requests);

    async Task<long> ApplyEachAsync(Session s, IEnumerable<PendingEnqueue> requests)
    {
        var earliestDue = long.MaxValue;
        var waiting = WaitingItems.Of(db);
        foreach (var kind in requests.GroupBy(r => (r.JobId, r.Key)))
        {
            var first = kind.First();
            var dueAt = kind.Min(r => r.DueAt);
            while (true)
            {
                var target = await waiting.FindAsync(s, first.JobId, first.Key);
                var causes = target is null ? [] : Json.Read<List<Cause>>(target.Causes);
                foreach (var r in kind)
                    Cause.Add(causes, r.Cause);
                if (target is null)
                {
                    if (!await waiting.HasRoomAsync(s, first.JobId, MaxQueued))
                    {
                        foreach (var r in kind)
                            r.Result = new EnqueueResult(0, Folded: false) { Full = true };
                        break;
                    }
                    var id = await s.QueryFirstOrDefaultAsync<long?>(db.Shared ? InsertShared : Insert,
                        new { first.JobId, DueAt = dueAt, Now = first.ArrivedAt, first.SealedValues, first.Key, Causes = Json.Write(causes) });
                    if (id is not { } newId)
                        continue;
                    waiting.Added(first.JobId, first.Key, newId);
                    earliestDue = Math.Min(earliestDue, dueAt);
                    Answer(kind, newId, dueAt, queued: true);
                }
                else
                {
                    if (await s.ExecuteAsync(Fold, new { Causes = Json.Write(causes), DueAt = dueAt, target.Id }) == 0)
                        continue;
                    if (dueAt < target.DueAt)
                        earliestDue = Math.Min(earliestDue, dueAt);
                    Answer(kind, target.Id, Math.Min(dueAt, target.DueAt), queued: false);
                }
                break;
            }
        }
        if (earliestDue != long.MaxValue)
            s.Announce(QueueTopic);
        return earliestDue;
    }

    /// <summary>The requests of one kind went to item <paramref name="id"/>: the first queued it, or all folded.</summary>
    void Answer(IEnumerable<PendingEnqueue> kind, long id, long itemDueAt, bool queued)
    {
        var first = true;
        foreach (var r in kind)
        {
            r.Result = new EnqueueResult(id, Folded: !(queued && first));
            r.ItemDueAt = itemDueAt;
            first = false;
        }
        var one = kind.First();
        trailing?.Waiting(one.JobId, one.Key, id, itemDueAt);
    }

    sealed record Waiting(long Id, long JobId, string? ParamsKey, string Causes, long DueAt);

    sealed record Inserted(long Id, long JobId, string? ParamsKey);

    /// <summary>
    /// <see cref="ApplyEachAsync"/> for a store several servers write, in a few statements for the whole
    /// batch rather than two per kind: the waiting items of every kind read and locked at once, folds
    /// in one update, new items in one insert. A kind whose insert another server's took first (the
    /// unique index on waiting items) goes the one-by-one way and folds into that item.
    /// </summary>
    async Task<long> ApplyTogetherAsync(Session s, List<PendingEnqueue> requests)
    {
        var earliestDue = long.MaxValue;
        var kinds = requests.GroupBy(r => (r.JobId, r.Key)).ToList();
        var found = (await s.QueryAsync<Waiting>(
            """
            SELECT q.id, q.job_id, q.params_key, q.causes, q.due_at
            FROM unnest(@jobs, @keys) AS k(job, key)
            JOIN queue_item q ON q.job_id = k.job AND COALESCE(q.params_key, '') = k.key AND q.state = 'queued'
            ORDER BY q.id FOR UPDATE OF q
            """,
            new { jobs = kinds.Select(k => k.Key.JobId).ToArray(), keys = kinds.Select(k => k.Key.Key ?? "").ToArray() }))
            .GroupBy(w => (w.JobId, w.ParamsKey)).ToDictionary(g => g.Key, g => g.First());

        var folds = new List<(IGrouping<(long, string?), PendingEnqueue> Kind, Waiting Target, string Causes, long DueAt)>();
        var inserts = new List<(IGrouping<(long, string?), PendingEnqueue> Kind, string Causes, long DueAt)>();
        var waiting = WaitingItems.Of(db);
        foreach (var kind in kinds)
        {
            var target = found.GetValueOrDefault(kind.Key);
            var causes = target is null ? [] : Json.Read<List<Cause>>(target.Causes);
            foreach (var r in kind)
                Cause.Add(causes, r.Cause);
            var dueAt = kind.Min(r => r.DueAt);
            if (target is not null)
                folds.Add((kind, target, Json.Write(causes), dueAt));
            else if (await waiting.HasRoomAsync(s, kind.Key.JobId, MaxQueued))
                inserts.Add((kind, Json.Write(causes), dueAt));
            else
            {
                foreach (var r in kind)
                    r.Result = new EnqueueResult(0, Folded: false) { Full = true };
            }
        }

        if (folds.Count > 0)
        {
            await s.ExecuteAsync(
                """
                UPDATE queue_item q SET causes = v.causes, due_at = LEAST(q.due_at, v.due)
                FROM unnest(@ids, @causes, @dues) AS v(id, causes, due) WHERE q.id = v.id
                """,
                new { ids = folds.Select(f => f.Target.Id).ToArray(), causes = folds.Select(f => f.Causes).ToArray(), dues = folds.Select(f => f.DueAt).ToArray() });
            foreach (var (kind, target, _, dueAt) in folds)
            {
                if (dueAt < target.DueAt)
                    earliestDue = Math.Min(earliestDue, dueAt);
                Answer(kind, target.Id, Math.Min(dueAt, target.DueAt), queued: false);
            }
        }

        var lost = new List<PendingEnqueue>();
        if (inserts.Count > 0)
        {
            var created = (await s.QueryAsync<Inserted>(
                """
                INSERT INTO queue_item (job_id, state, due_at, in_queue_since, params, params_key, causes)
                SELECT v.job, 'queued', v.due, v.since, v.params, v.key, v.causes
                FROM unnest(@jobs, @dues, @sinces, @params, @keys, @causes) WITH ORDINALITY AS v(job, due, since, params, key, causes, n)
                ORDER BY v.n
                ON CONFLICT (job_id, (COALESCE(params_key, ''))) WHERE state = 'queued' DO NOTHING
                RETURNING id, job_id, params_key
                """,
                new
                {
                    sinces = inserts.Select(i => i.Kind.First().ArrivedAt).ToArray(),
                    jobs = inserts.Select(i => i.Kind.Key.Item1).ToArray(),
                    dues = inserts.Select(i => i.DueAt).ToArray(),
                    @params = inserts.Select(i => i.Kind.First().SealedValues).ToArray(),
                    keys = inserts.Select(i => i.Kind.Key.Item2).ToArray(),
                    causes = inserts.Select(i => i.Causes).ToArray(),
                })).ToDictionary(c => (c.JobId, c.ParamsKey), c => c.Id);
            foreach (var (kind, _, dueAt) in inserts)
            {
                if (!created.TryGetValue(kind.Key, out var id))
                {
                    lost.AddRange(kind);
                    continue;
                }
                waiting.Added(kind.Key.Item1, kind.Key.Item2, id);
                earliestDue = Math.Min(earliestDue, dueAt);
                Answer(kind, id, dueAt, queued: true);
            }
        }
        if (lost.Count > 0)
            earliestDue = Math.Min(earliestDue, await ApplyEachAsync(s, lost));
        else if (earliestDue != long.MaxValue)
            s.Announce(QueueTopic);
        return earliestDue;
    }

    /// <summary>Announced when an item was queued or moved earlier, so every server's dispatcher looks.</summary>
    public const string QueueTopic = "queue";

    public async Task<QueueItem?> FindAsync(long id, CancellationToken ct) =>
        (await ReadItemsAsync($"SELECT {Columns} FROM queue_item WHERE id = @id", new { id }, ct)).FirstOrDefault();

    /// <summary>Items waiting for an executor, the next to run first.</summary>
    public Task<IReadOnlyList<QueueItem>> QueuedAsync(CancellationToken ct) =>
        ReadItemsAsync($"SELECT {Columns} FROM queue_item WHERE state = 'queued' ORDER BY due_at, id", null, ct);

    /// <summary>The job's item that runs next: a job's queue may be long, and its API shows only this one.</summary>
    public async Task<QueueItem?> FirstQueuedForJobAsync(long jobId, CancellationToken ct) =>
        (await ReadItemsAsync($"SELECT {Columns} FROM queue_item WHERE state = 'queued' AND job_id = @jobId ORDER BY due_at, id LIMIT 1", new { jobId }, ct)).FirstOrDefault();

    /// <summary>Items as stored, with the causes of trailing folds not yet written.</summary>
    Task<IReadOnlyList<QueueItem>> ReadItemsAsync(string sql, object? args, CancellationToken ct)
    {
        Task<IReadOnlyList<QueueItem>> Read() =>
            db.ReadAsync<IReadOnlyList<QueueItem>>(async s => (await s.QueryAsync<Row>(sql, args)).Select(ToItem).ToList(), ct);
        return trailing is null ? Read() : trailing.ReadAsync(Read);
    }

    /// <summary>Writes the causes of trailing folds before the server stops.</summary>
    public Task StopAsync(CancellationToken ct) => trailing?.FlushAsync() ?? Task.CompletedTask;

    public Task StartAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Whether an item that left the queue is still shown at /queue/item/N/.</summary>
    public bool StillVisible(QueueItem item) =>
        item.State == QueueState.Queued || item.LeftAt is { } left && time.GetUtcNow().ToUnixTimeMilliseconds() - left < LeftItemsVisibleFor.TotalMilliseconds;

    public async Task<CancelOutcome> CancelAsync(long id, CancellationToken ct)
    {
        var outcome = await db.WriteAsync(s => CancelAsync(s, id, time.GetUtcNow().ToUnixTimeMilliseconds()), ct);
        Signal();
        return outcome;
    }

    async Task<CancelOutcome> CancelAsync(Session s, long id, long now)
    {
        var state = await s.ExecuteScalarAsync<string>("SELECT state FROM queue_item WHERE id = @id", new { id });
        if (state is null)
            return CancelOutcome.NotFound;
        if (state != "queued")
            return CancelOutcome.AlreadyLeft;
        await s.ExecuteAsync("UPDATE queue_item SET state = 'cancelled', left_at = @now WHERE id = @id", new { id, now });
        trailing?.Left(id, takeCauses: false);
        return CancelOutcome.Cancelled;
    }

    /// <summary>Cancels every queued item of a job (disable, delete).</summary>
    public async Task CancelAllAsync(Session s, long jobId, long now)
    {
        await s.ExecuteAsync("UPDATE queue_item SET state = 'cancelled', left_at = @now WHERE job_id = @jobId AND state = 'queued'", new { jobId, now });
        trailing?.JobLeft(jobId);
    }

    /// <summary>
    /// Takes the first due item whose job is not building already (its row in job_build_slot) and marks
    /// it left, in one statement of the caller's write session: two claims never take the same item.
    /// The build number follows with <see cref="MarkLeftAsync"/> in the same transaction.
    /// </summary>
    public async Task<QueueItem?> ClaimAsync(Session s, string node, long now)
    {
        if (await s.QueryFirstOrDefaultAsync<Row>(
            $"""
            UPDATE queue_item SET state = 'left', claimed_by = @node, left_at = @now
            WHERE id = (SELECT q.id FROM queue_item q
                        WHERE q.state = 'queued' AND q.due_at <= @now
                          AND NOT EXISTS (SELECT 1 FROM job_build_slot b WHERE b.job_id = q.job_id)
                        ORDER BY q.due_at, q.id LIMIT 1 {db.Dialect.SkipLocked})
            RETURNING {Columns}
            """, new { node, now }) is not { } r)
            return null;
        var item = ToItem(r);
        // The causes of folds answered before this claim go with the item into its build.
        if (trailing?.Left(item.Id, takeCauses: true) is { } unwritten)
        {
            await TrailingFolds.AddCausesAsync(s, item.Id, unwritten);
            item = TrailingFolds.WithCauses(item, unwritten);
        }
        return item;
    }

    /// <summary>Records that the item left the queue for build <paramref name="buildNumber"/>.</summary>
    public async Task MarkLeftAsync(Session s, long id, long buildNumber, string node, long now)
    {
        await s.ExecuteAsync("UPDATE queue_item SET state = 'left', build_number = @buildNumber, claimed_by = @node, left_at = @now WHERE id = @id",
            new { id, buildNumber, node, now });
        trailing?.Left(id, takeCauses: false);
    }

    /// <summary>The earliest due time of a queued item, to sleep until then.</summary>
    public Task<long?> NextDueAsync(CancellationToken ct) =>
        db.ReadAsync(s => s.ExecuteScalarAsync<long?>("SELECT MIN(due_at) FROM queue_item WHERE state = 'queued'"), ct);

    /// <summary>Wakes the dispatcher: something was queued, cancelled or finished.</summary>
    public void Signal()
    {
        // Under the lock the count is checked and raised as one step, so it never passes 1.
        lock (changed)
        {
            if (changed.CurrentCount == 0)
                changed.Release();
        }
    }

    // When the waiting dispatcher wakes by itself (Unix ms); long.MaxValue while it is awake, so that
    // whatever is queued before it waits again wakes it at once.
    long dispatcherWakesAt = long.MaxValue;

    /// <summary>The dispatcher's wait: until <paramref name="timeout"/> or a <see cref="Signal"/>.</summary>
    public async Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct)
    {
        Interlocked.Exchange(ref dispatcherWakesAt, time.GetUtcNow().ToUnixTimeMilliseconds() + (long)timeout.TotalMilliseconds);
        try
        {
            return await changed.WaitAsync(timeout, ct);
        }
        finally
        {
            Interlocked.Exchange(ref dispatcherWakesAt, long.MaxValue);
        }
    }
}
