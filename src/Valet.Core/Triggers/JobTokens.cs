using System.Security.Cryptography;
using Valet.Core.Security;
using Valet.Core.Storage;

namespace Valet.Core.Triggers;

public sealed record JobToken(long Id, string Name, long CreatedAt, long? ExpiresAt, bool Revoked, long? LastUsedAt, string? LastUsedAddress)
{
    public bool ActiveAt(long now) => !Revoked && (ExpiresAt is null || ExpiresAt > now);
}

/// <summary>A job's "Trigger builds remotely" tokens, kept only as keyed hashes and compared in constant time.</summary>
public sealed class JobTokens(Database db, InstallationSecrets secrets, TimeProvider time)
{
    public const string DefaultName = "default";

    sealed record Row(long Id, string Name, byte[] Hash, long CreatedAt, long? ExpiresAt, long Revoked, long? LastUsedAt, string? LastUsedAddress)
    {
        public JobToken ToToken() => new(Id, Name, CreatedAt, ExpiresAt, Revoked != 0, LastUsedAt, LastUsedAddress);
    }

    const string Columns = "id, name, hash, created_at, expires_at, revoked, last_used_at, last_used_address";

    // Each job's token rows, for the trigger's check; last-use data in here may lag, which the check ignores.
    readonly ReadCache<long, IReadOnlyList<Row>> rows = new(db, "job-tokens");

    public Task<IReadOnlyList<JobToken>> ListAsync(long jobId, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<JobToken>>(async s => (await s.QueryAsync<Row>(
            $"SELECT {Columns} FROM job_token WHERE job_id = @jobId ORDER BY name", new { jobId })).Select(r => r.ToToken()).ToList(), ct);

    public sealed record Check(bool AnyActive, JobToken? Match);

    /// <summary>
    /// In one read: whether the job has an active token, and which token (active or not: the caller
    /// tells revoked and expired apart) a presented value matches. Empty or absent never matches.
    /// </summary>
    public async Task<Check> CheckAsync(long jobId, string? presented, CancellationToken ct)
    {
        var candidates = await rows.GetAsync(jobId, () => db.ReadAsync<IReadOnlyList<Row>>(async s =>
            (await s.QueryAsync<Row>($"SELECT {Columns} FROM job_token WHERE job_id = @jobId", new { jobId })).ToList(), ct));
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var digest = string.IsNullOrEmpty(presented) ? null : secrets.Hmac(presented);
        var anyActive = false;
        JobToken? match = null;
        // Every candidate is compared, so the time taken does not tell which one matched.
        foreach (var row in candidates)
        {
            var token = row.ToToken();
            anyActive |= token.ActiveAt(now);
            if (digest is not null && CryptographicOperations.FixedTimeEquals(row.Hash, digest))
                match = token;
        }
        return new Check(anyActive, match);
    }

    /// <summary>Sets the token named `default` from the config file: a value creates or replaces it, null or "" removes it.</summary>
    public async Task SetDefaultAsync(Session s, long jobId, string? value)
    {
        rows.InvalidateWith(s);
        if (string.IsNullOrEmpty(value))
        {
            await s.ExecuteAsync("DELETE FROM job_token WHERE job_id = @jobId AND name = @name", new { jobId, name = DefaultName });
            return;
        }
        var hash = secrets.Hmac(value);
        var existing = await s.QueryFirstOrDefaultAsync<Row>($"SELECT {Columns} FROM job_token WHERE job_id = @jobId AND name = @name", new { jobId, name = DefaultName });
        if (existing is not null && CryptographicOperations.FixedTimeEquals(existing.Hash, hash) && existing.Revoked == 0 && existing.ExpiresAt is null)
            return;
        await s.ExecuteAsync("DELETE FROM job_token WHERE job_id = @jobId AND name = @name", new { jobId, name = DefaultName });
        await InsertAsync(s, jobId, DefaultName, hash, null);
    }

    Task InsertAsync(Session s, long jobId, string name, byte[] hash, long? expiresAt) =>
        s.ExecuteAsync("INSERT INTO job_token (job_id, name, hash, created_at, expires_at) VALUES (@jobId, @name, @hash, @now, @expiresAt)",
            new { jobId, name, hash, now = time.GetUtcNow().ToUnixTimeMilliseconds(), expiresAt });

    public enum CreateOutcome { Created, NameTaken }

    /// <summary>Generates a token; its value is returned once and never stored.</summary>
    public Task<(CreateOutcome Outcome, string? Value, long CreatedAt)> CreateAsync(long jobId, string name, long? expiresAt, CancellationToken ct) =>
        db.WriteAsync(async s =>
        {
            rows.InvalidateWith(s);
            if (await s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM job_token WHERE job_id = @jobId AND name = @name", new { jobId, name }) > 0)
                return (CreateOutcome.NameTaken, (string?)null, 0L);
            var value = InstallationSecrets.NewToken();
            await InsertAsync(s, jobId, name, secrets.Hmac(value), expiresAt);
            return (CreateOutcome.Created, value, time.GetUtcNow().ToUnixTimeMilliseconds());
        }, ct);

    /// <summary>False when the job has no token of that name.</summary>
    public Task<bool> RevokeAsync(long jobId, string name, CancellationToken ct) =>
        db.WriteAsync(async s =>
        {
            rows.InvalidateWith(s);
            return await s.ExecuteAsync("UPDATE job_token SET revoked = 1 WHERE job_id = @jobId AND name = @name", new { jobId, name }) > 0;
        }, ct);

    /// <summary>The digest of the job's active `default` token, as config.xml writes it; null when it has none.</summary>
    public Task<byte[]?> DefaultDigestAsync(long jobId, CancellationToken ct) =>
        db.ReadAsync(async s =>
        {
            var row = await s.QueryFirstOrDefaultAsync<Row>($"SELECT {Columns} FROM job_token WHERE job_id = @jobId AND name = @name", new { jobId, name = DefaultName });
            return row is not null && row.ToToken().ActiveAt(time.GetUtcNow().ToUnixTimeMilliseconds()) ? row.Hash : null;
        }, ct);

    /// <summary>Installs a `default` token by its digest (config.xml's `{valet-hmac}` form, copies), so no clear value is needed.</summary>
    public async Task SetDefaultDigestAsync(Session s, long jobId, byte[] hash)
    {
        rows.InvalidateWith(s);
        var existing = await s.QueryFirstOrDefaultAsync<Row>($"SELECT {Columns} FROM job_token WHERE job_id = @jobId AND name = @name", new { jobId, name = DefaultName });
        if (existing is not null && CryptographicOperations.FixedTimeEquals(existing.Hash, hash) && existing.Revoked == 0 && existing.ExpiresAt is null)
            return;
        await s.ExecuteAsync("DELETE FROM job_token WHERE job_id = @jobId AND name = @name", new { jobId, name = DefaultName });
        await InsertAsync(s, jobId, DefaultName, hash, null);
    }
}
