using Valet.Core.Storage;

namespace Valet.Core.Security;

public sealed record User(string Id, string FullName, string PasswordHash, string? ManagedBy);

public sealed class UserStore(Database db, TimeProvider time)
{
    public const string AdminId = "admin";

    public Task<User?> FindAsync(string id, CancellationToken ct) =>
        db.ReadAsync(s => s.QueryFirstOrDefaultAsync<User>(
            "SELECT id, full_name, password_hash, managed_by FROM user_account WHERE id_key = @key", new { key = id.ToUpperInvariant() }), ct);

    /// <summary>Creates the user, or when it exists and <paramref name="replace"/> is set, replaces its password and name.</summary>
    public static async Task<bool> SaveAsync(Session s, string id, string fullName, string password, string? managedBy, bool replace, long now)
    {
        var exists = await s.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM user_account WHERE id_key = @key", new { key = id.ToUpperInvariant() }) > 0;
        if (exists && !replace)
            return false;
        if (exists && await s.QueryFirstOrDefaultAsync<User>("SELECT id, full_name, password_hash, managed_by FROM user_account WHERE id_key = @key",
                new { key = id.ToUpperInvariant() }) is { } user && user.FullName == fullName && PasswordHasher.Verify(password, user.PasswordHash))
            return false;
        await s.ExecuteAsync(
            """
            INSERT INTO user_account (id, id_key, full_name, password_hash, managed_by, created_at) VALUES (@id, @key, @fullName, @hash, @managedBy, @now)
            ON CONFLICT (id_key) DO UPDATE SET full_name = excluded.full_name, password_hash = excluded.password_hash, managed_by = excluded.managed_by
            """,
            new { id, key = id.ToUpperInvariant(), fullName, hash = PasswordHasher.Hash(password), managedBy, now });
        return true;
    }

    public Task<bool> CreateIfMissingAsync(string id, string fullName, string password, CancellationToken ct) =>
        db.WriteAsync(s => SaveAsync(s, id, fullName, password, null, replace: false, time.GetUtcNow().ToUnixTimeMilliseconds()), ct);
}
