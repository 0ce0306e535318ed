using System.Security.Cryptography;
using Valet.Core.Storage;

namespace Valet.Core.Security;

/// <summary>What is kept of an API token: never its value.</summary>
public sealed record ApiToken(string Uuid, string Name, long CreatedAt, long? ExpiresAt, long? LastUsedAt, long UseCount)
{
    public bool ActiveAt(long now) => ExpiresAt is null || ExpiresAt > now;
}

/// <summary>
/// Users' API tokens: several per user, named, shown once at creation and kept only as an HMAC under
/// the installation key; compared in constant time; revoking deletes the row, so it acts at once.
/// </summary>
public sealed class ApiTokens(Database db, InstallationSecrets secrets, TimeProvider time)
{
    public const int MaxNameLength = 100;

    sealed record Row(string Uuid, string Name, byte[] Hash, long CreatedAt, long? ExpiresAt, long? LastUsedAt, long UseCount)
    {
        public ApiToken ToToken() => new(Uuid, Name, CreatedAt, ExpiresAt, LastUsedAt, UseCount);
    }

    const string Columns = "uuid, name, hash, created_at, expires_at, last_used_at, use_count";

    static string Key(string userId) => userId.ToUpperInvariant();

    /// <summary>Null when the name is acceptable, else what is wrong with it.</summary>
    public static string? NameProblem(string name) =>
        name.Length == 0 || name.Length > MaxNameLength || name.Any(char.IsControl) || name != name.Trim()
            ? $"A token name is 1 to {MaxNameLength} characters, without control characters or surrounding spaces"
            : null;

    public Task<IReadOnlyList<ApiToken>> ListAsync(string userId, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<ApiToken>>(async s => (await s.QueryAsync<Row>(
            $"SELECT {Columns} FROM api_token WHERE user_key = @key ORDER BY created_at, uuid", new { key = Key(userId) }))
            .Select(r => r.ToToken()).ToList(), ct);

    /// <summary>Generates a token; its value is returned once and never stored.</summary>
    public Task<(ApiToken Token, string Value)> CreateAsync(string userId, string name, long? expiresAt, CancellationToken ct) =>
        db.WriteAsync(async s =>
        {
            var value = InstallationSecrets.NewToken();
            var token = new ApiToken(Guid.NewGuid().ToString(), name, time.GetUtcNow().ToUnixTimeMilliseconds(), expiresAt, null, 0);
            await s.ExecuteAsync(
                "INSERT INTO api_token (uuid, user_key, name, hash, created_at, expires_at) VALUES (@Uuid, @key, @Name, @hash, @CreatedAt, @ExpiresAt)",
                new { token.Uuid, key = Key(userId), token.Name, hash = secrets.Hmac(value), token.CreatedAt, token.ExpiresAt });
            return (token, value);
        }, ct);

    /// <summary>False when the user has no token with that uuid.</summary>
    public Task<bool> RevokeAsync(string userId, string uuid, CancellationToken ct) =>
        db.WriteAsync(async s => await s.ExecuteAsync("DELETE FROM api_token WHERE user_key = @key AND uuid = @uuid",
            new { key = Key(userId), uuid }) > 0, ct);

    /// <summary>
    /// The user's active token whose value is <paramref name="presented"/>, with its use recorded; null
    /// when none matches (revoked and expired tokens never do).
    /// </summary>
    public async Task<ApiToken?> MatchAsync(string userId, string presented, CancellationToken ct)
    {
        if (presented.Length == 0)
            return null;
        var digest = secrets.Hmac(presented);
        var rows = await db.ReadAsync(s => s.QueryAsync<Row>($"SELECT {Columns} FROM api_token WHERE user_key = @key", new { key = Key(userId) }), ct);
        Row? match = null;
        // Every candidate is compared, so the time taken does not tell which one matched.
        foreach (var row in rows)
        {
            if (CryptographicOperations.FixedTimeEquals(row.Hash, digest))
                match = row;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (match is null || !match.ToToken().ActiveAt(now))
            return null;
        await db.WriteAsync(s => s.ExecuteAsync("UPDATE api_token SET last_used_at = @now, use_count = use_count + 1 WHERE uuid = @uuid",
            new { now, uuid = match.Uuid }), ct);
        return match.ToToken() with { LastUsedAt = now, UseCount = match.UseCount + 1 };
    }
}
