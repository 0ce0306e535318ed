using Valet.Core.Storage;

namespace Valet.Core.Scm;

/// <summary>The revisions and change sets of git builds (table build_scm).</summary>
public sealed class ScmStore(Database db)
{
    sealed record Row(string Url, string Branch, string Revision, string? PreviousRevision, string ChangeSet);

    public Task RecordAsync(long jobId, long number, ScmRevision scm, CancellationToken ct) =>
        db.WriteAsync(s => s.ExecuteAsync(
            """
            INSERT INTO build_scm (job_id, number, url, branch, revision, previous_revision, change_set)
            VALUES (@jobId, @number, @Url, @Branch, @Revision, @PreviousRevision, @changeSet)
            ON CONFLICT (job_id, number) DO UPDATE SET revision = excluded.revision, change_set = excluded.change_set
            """, new { jobId, number, scm.Url, scm.Branch, scm.Revision, scm.PreviousRevision, changeSet = Json.Write(scm.ChangeSet) }), ct);

    public Task<ScmRevision?> GetAsync(long jobId, long number, CancellationToken ct) =>
        db.ReadAsync(async s => await s.QueryFirstOrDefaultAsync<Row>(
            "SELECT url, branch, revision, previous_revision, change_set FROM build_scm WHERE job_id = @jobId AND number = @number",
            new { jobId, number }) is { } r
            ? new ScmRevision(r.Url, r.Branch, r.Revision, r.PreviousRevision, Json.Read<List<ChangeSetEntry>>(r.ChangeSet))
            : null, ct);

    /// <summary>The revision the job's newest git build checked out (before build <paramref name="before"/> when given).</summary>
    public Task<string?> LastBuiltRevisionAsync(long jobId, long? before, CancellationToken ct) =>
        db.ReadAsync(s => s.QueryFirstOrDefaultAsync<string>(
            "SELECT revision FROM build_scm WHERE job_id = @jobId AND number < @before ORDER BY number DESC LIMIT 1",
            new { jobId, before = before ?? long.MaxValue }), ct);
}
