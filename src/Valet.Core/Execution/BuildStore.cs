using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;
using Valet.Core.Storage;

namespace Valet.Core.Execution;

/// <summary>Build records. Console output is not here: it is written and read through <see cref="ConsoleLogs"/>.</summary>
public sealed class BuildStore(Database db, InstallationSecrets secrets)
{
    const string Columns = "job_id, number, queue_id, state, result, started_at, duration, causes, params, executor, workspace, node";

    sealed record Row(long JobId, long Number, long QueueId, string State, string? Result, long StartedAt, long Duration,
        string Causes, string? Params, long Executor, string Workspace, string Node);

    Build ToBuild(Row r) => new(r.JobId, r.Number, r.QueueId, r.State == "running", r.Result, r.StartedAt, r.Duration,
        Json.Read<List<Cause>>(r.Causes),
        StoredParameters.Unseal(r.Params, secrets),
        (int)r.Executor, r.Workspace, r.Node);

    public Task<Build?> GetAsync(long jobId, long number, CancellationToken ct) =>
        db.ReadAsync(async s => await s.QueryFirstOrDefaultAsync<Row>(
            $"SELECT {Columns} FROM build WHERE job_id = @jobId AND number = @number", new { jobId, number }) is { } r ? ToBuild(r) : null, ct);

    /// <summary>A job's builds, newest first.</summary>
    public Task<IReadOnlyList<Build>> ListAsync(long jobId, int limit, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<Build>>(async s => (await s.QueryAsync<Row>(
            $"SELECT {Columns} FROM build WHERE job_id = @jobId ORDER BY number DESC LIMIT @limit", new { jobId, limit })).Select(ToBuild).ToList(), ct);

    public Task<IReadOnlyList<Build>> RunningAsync(CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<Build>>(async s => (await s.QueryAsync<Row>(
            $"SELECT {Columns} FROM build WHERE state = 'running' ORDER BY started_at")).Select(ToBuild).ToList(), ct);

    public static async Task<bool> IsBuildingAsync(Session s, long jobId) =>
        await s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM build WHERE job_id = @jobId AND state = 'running'", new { jobId }) > 0;

    public Task<bool> IsBuildingAsync(long jobId, CancellationToken ct) => db.ReadAsync(s => IsBuildingAsync(s, jobId), ct);

    /// <summary>Records build <paramref name="number"/> of the item's job as running.</summary>
    public async Task<Build> StartAsync(Session s, QueueItem item, long number, int executor, string workspace, string node, long now)
    {
        var sealedValues = StoredParameters.Seal(item.Parameters, secrets);
        await s.ExecuteAsync(
            """
            INSERT INTO build (job_id, number, queue_id, state, started_at, causes, params, executor, workspace, node)
            VALUES (@JobId, @number, @Id, 'running', @now, @causes, @sealedValues, @executor, @workspace, @node)
            """,
            new { item.JobId, number, item.Id, now, causes = Json.Write(item.Causes), sealedValues, executor, workspace, node });
        return new Build(item.JobId, number, item.Id, true, null, now, 0, item.Causes, item.Parameters, executor, workspace, node);
    }

    /// <summary>
    /// Takes the job's build slot for <paramref name="build"/>, in the claim's transaction: the row that
    /// says the job is building, which the queue's claim skips. False when another build holds it.
    /// </summary>
    public static async Task<bool> TakeSlotAsync(Session s, Build build) =>
        await s.ExecuteAsync("INSERT INTO job_build_slot (job_id, number) VALUES (@JobId, @Number) ON CONFLICT DO NOTHING",
            new { build.JobId, build.Number }) == 1;

    /// <summary>Records the result and releases the job's build slot, if the build held it, in one transaction.</summary>
    public Task FinishAsync(Build build, string result, long now, CancellationToken ct) =>
        db.WriteAsync(async s =>
        {
            await s.ExecuteAsync(
                "UPDATE build SET state = 'done', result = @result, duration = @duration WHERE job_id = @JobId AND number = @Number",
                new { result, duration = Math.Max(0, now - build.StartedAt), build.JobId, build.Number });
            await s.ExecuteAsync("DELETE FROM job_build_slot WHERE job_id = @JobId AND number = @Number", new { build.JobId, build.Number });
        }, ct);

    /// <summary>A request to stop a running build; <paramref name="By"/> names who asked first.</summary>
    public sealed record AbortRequest(long JobId, long Number, string By);

    /// <summary>
    /// Records on a running build that <paramref name="by"/> asked it to stop, so whichever process runs
    /// it stops it. Returns who asked first (an earlier request is kept), or null when it is not running.
    /// </summary>
    public Task<string?> RequestAbortAsync(long jobId, long number, string by, CancellationToken ct) =>
        db.WriteAsync(s => s.QueryFirstOrDefaultAsync<string>(
            """
            UPDATE build SET abort_requested_by = COALESCE(abort_requested_by, @by)
            WHERE job_id = @jobId AND number = @number AND state = 'running' RETURNING abort_requested_by
            """, new { jobId, number, by }), ct);

    /// <summary>Records an abort request on every running build of these jobs; returns the requests now standing.</summary>
    public Task<IReadOnlyList<AbortRequest>> RequestAbortAllAsync(IReadOnlyCollection<long> jobIds, string by, CancellationToken ct) =>
        db.WriteAsync<IReadOnlyList<AbortRequest>>(async s => (await s.QueryAsync<AbortRequest>(
            $"""
            UPDATE build SET abort_requested_by = COALESCE(abort_requested_by, @by)
            WHERE job_id {db.Dialect.InList("@jobIds")} AND state = 'running' RETURNING job_id, number, abort_requested_by AS by
            """, new { jobIds = jobIds.ToList(), by })).ToList(), ct);

    /// <summary>The abort requests standing on running builds, wherever they run.</summary>
    public Task<IReadOnlyList<AbortRequest>> AbortRequestsAsync(CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<AbortRequest>>(async s => (await s.QueryAsync<AbortRequest>(
            "SELECT job_id, number, abort_requested_by AS by FROM build WHERE state = 'running' AND abort_requested_by IS NOT NULL")).ToList(), ct);
}
