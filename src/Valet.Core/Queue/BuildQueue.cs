using System.Globalization;
using System.Text;
using Valet.Core.Items;
using Valet.Core.Security;
using Valet.Core.Storage;

namespace Valet.Core.Queue;

/// <summary>
/// The durable build queue. Every change is committed before its caller returns; equivalent requests
/// fold into the waiting item; executors take items with an atomic claim.
/// </summary>
public sealed class BuildQueue(Database db, InstallationSecrets secrets, TimeProvider time)
{
    public static readonly TimeSpan LeftItemsVisibleFor = TimeSpan.FromMinutes(5);

    readonly SemaphoreSlim changed = new(0, 1);

    sealed record Row(long Id, long JobId, string State, long DueAt, long InQueueSince, string? Params, string Causes, long? BuildNumber, long? LeftAt);

    const string Columns = "id, job_id, state, due_at, in_queue_since, params, causes, build_number, left_at";

    QueueItem ToItem(Row r) => new(r.Id, r.JobId, Enum.Parse<QueueState>(r.State, ignoreCase: true), r.DueAt, r.InQueueSince,
        StoredParameters.Unseal(r.Params, secrets),
        Json.Read<List<Cause>>(r.Causes), r.BuildNumber, r.LeftAt);

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
    /// <param name="alsoInTransaction">Work committed together with the item (an idempotency record), so neither outlives the other.</param>
    public async Task<EnqueueResult> EnqueueAsync(Item job, IReadOnlyList<ParameterValue>? values, Cause cause, DateTimeOffset due,
        Func<Session, EnqueueResult, Task>? alsoInTransaction, CancellationToken ct)
    {
        async Task<EnqueueResult> ThenAsync(Session s, EnqueueResult r)
        {
            if (alsoInTransaction is not null)
                await alsoInTransaction(s, r);
            return r;
        }

        var key = FoldKey(values);
        var sealedValues = StoredParameters.Seal(values, secrets);
        var result = await db.WriteAsync(async s =>
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var dueAt = due.ToUnixTimeMilliseconds();
            var match = await s.QueryFirstOrDefaultAsync<Row>(
                $"SELECT {Columns} FROM queue_item WHERE job_id = @jobId AND state = 'queued' AND params_key IS @key ORDER BY id LIMIT 1",
                new { jobId = job.Id, key });
            if (match is not null)
            {
                var causes = Cause.Merge(Json.Read<List<Cause>>(match.Causes), cause);
                await s.ExecuteAsync("UPDATE queue_item SET causes = @causes, due_at = MIN(due_at, @dueAt) WHERE id = @id",
                    new { causes = Json.Write(causes), dueAt, id = match.Id });
                return await ThenAsync(s, new EnqueueResult(match.Id, Folded: true));
            }
            var id = await s.QuerySingleAsync<long>(
                """
                INSERT INTO queue_item (job_id, state, due_at, in_queue_since, params, params_key, causes)
                VALUES (@jobId, 'queued', @dueAt, @now, @sealedValues, @key, @causes) RETURNING id
                """,
                new { jobId = job.Id, dueAt, now, sealedValues, key, causes = Json.Write(new[] { cause }) });
            return await ThenAsync(s, new EnqueueResult(id, Folded: false));
        }, ct);
        Signal();
        return result;
    }

    public Task<QueueItem?> FindAsync(long id, CancellationToken ct) =>
        db.ReadAsync(async s => await s.QueryFirstOrDefaultAsync<Row>($"SELECT {Columns} FROM queue_item WHERE id = @id", new { id }) is { } r ? ToItem(r) : null, ct);

    /// <summary>Items waiting for an executor, the next to run first.</summary>
    public Task<IReadOnlyList<QueueItem>> QueuedAsync(CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<QueueItem>>(async s => (await s.QueryAsync<Row>(
            $"SELECT {Columns} FROM queue_item WHERE state = 'queued' ORDER BY due_at, id")).Select(ToItem).ToList(), ct);

    public Task<IReadOnlyList<QueueItem>> QueuedForJobAsync(long jobId, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<QueueItem>>(async s => (await s.QueryAsync<Row>(
            $"SELECT {Columns} FROM queue_item WHERE state = 'queued' AND job_id = @jobId ORDER BY due_at, id", new { jobId })).Select(ToItem).ToList(), ct);

    /// <summary>Whether an item that left the queue is still shown at /queue/item/N/.</summary>
    public bool StillVisible(QueueItem item) =>
        item.State == QueueState.Queued || item.LeftAt is { } left && time.GetUtcNow().ToUnixTimeMilliseconds() - left < LeftItemsVisibleFor.TotalMilliseconds;

    public async Task<CancelOutcome> CancelAsync(long id, CancellationToken ct)
    {
        var outcome = await db.WriteAsync(s => CancelAsync(s, id, time.GetUtcNow().ToUnixTimeMilliseconds()), ct);
        Signal();
        return outcome;
    }

    static async Task<CancelOutcome> CancelAsync(Session s, long id, long now)
    {
        var state = await s.ExecuteScalarAsync<string>("SELECT state FROM queue_item WHERE id = @id", new { id });
        if (state is null)
            return CancelOutcome.NotFound;
        if (state != "queued")
            return CancelOutcome.AlreadyLeft;
        await s.ExecuteAsync("UPDATE queue_item SET state = 'cancelled', left_at = @now WHERE id = @id", new { id, now });
        return CancelOutcome.Cancelled;
    }

    /// <summary>Cancels every queued item of a job (disable, delete).</summary>
    public static Task CancelAllAsync(Session s, long jobId, long now) =>
        s.ExecuteAsync("UPDATE queue_item SET state = 'cancelled', left_at = @now WHERE job_id = @jobId AND state = 'queued'", new { jobId, now });

    /// <summary>
    /// Takes the first due item whose job may start a build now, in the caller's write session, and
    /// marks it left with its build number. Blocked items (non-concurrent job already building) are skipped.
    /// </summary>
    public async Task<QueueItem?> ClaimAsync(Session s, Func<long, Task<bool>> mayStart, long now)
    {
        var candidates = (await s.QueryAsync<Row>(
            $"SELECT {Columns} FROM queue_item WHERE state = 'queued' AND due_at <= @now ORDER BY due_at, id LIMIT 100 {db.SkipLocked}", new { now })).ToList();
        foreach (var row in candidates)
        {
            if (await mayStart(row.JobId))
                return ToItem(row);
        }
        return null;
    }

    public static Task MarkLeftAsync(Session s, long id, long buildNumber, string node, long now) =>
        s.ExecuteAsync("UPDATE queue_item SET state = 'left', build_number = @buildNumber, claimed_by = @node, left_at = @now WHERE id = @id",
            new { id, buildNumber, node, now });

    /// <summary>The earliest due time of a queued item, to sleep until then.</summary>
    public Task<long?> NextDueAsync(CancellationToken ct) =>
        db.ReadAsync(s => s.ExecuteScalarAsync<long?>("SELECT MIN(due_at) FROM queue_item WHERE state = 'queued'"), ct);

    /// <summary>Wakes the dispatcher: something was queued, cancelled or finished.</summary>
    public void Signal()
    {
        try { changed.Release(); }
        catch (SemaphoreFullException) { }
    }

    public Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct) => changed.WaitAsync(timeout, ct);
}
