using System.Security.Cryptography;
using Valet.Core.Storage;

namespace Valet.Core.Security;

/// <summary>
/// Sign-in cookie sessions, kept in the database (they survive restarts): the cookie carries a random
/// value, the table only its HMAC. A session ends at sign-out, at expiry, or when the password changes.
/// </summary>
public sealed class SignInSessions(Database db, UserStore users, InstallationSecrets secrets, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(14);

    sealed record Row(string UserKey, byte[] PasswordStamp, long ExpiresAt);

    byte[] Stamp(User user) => secrets.Hmac("password-stamp\n" + user.PasswordHash);

    /// <summary>Opens a session and returns the cookie value (shown to the browser only).</summary>
    public Task<string> OpenAsync(User user, CancellationToken ct) =>
        db.WriteAsync(async s =>
        {
            var value = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var now = time.GetUtcNow();
            await s.ExecuteAsync("DELETE FROM sign_in_session WHERE expires_at <= @now", new { now = now.ToUnixTimeMilliseconds() });
            await s.ExecuteAsync(
                "INSERT INTO sign_in_session (hash, user_key, password_stamp, created_at, expires_at) VALUES (@hash, @key, @stamp, @now, @expires)",
                new { hash = secrets.Hmac(value), key = user.Id.ToUpperInvariant(), stamp = Stamp(user), now = now.ToUnixTimeMilliseconds(), expires = (now + Lifetime).ToUnixTimeMilliseconds() });
            return value;
        }, ct);

    /// <summary>The signed-in user of a cookie value, or null when the session is unknown, expired or stale.</summary>
    public async Task<User?> FindAsync(string value, CancellationToken ct)
    {
        if (value.Length is 0 or > 100)
            return null;
        var row = await db.ReadAsync(s => s.QueryFirstOrDefaultAsync<Row>(
            "SELECT user_key, password_stamp, expires_at FROM sign_in_session WHERE hash = @hash", new { hash = secrets.Hmac(value) }), ct);
        if (row is null || row.ExpiresAt <= time.GetUtcNow().ToUnixTimeMilliseconds())
            return null;
        var user = await users.FindAsync(row.UserKey, ct);
        return user is not null && CryptographicOperations.FixedTimeEquals(row.PasswordStamp, Stamp(user)) ? user : null;
    }

    public Task CloseAsync(string value, CancellationToken ct) =>
        db.WriteAsync(s => s.ExecuteAsync("DELETE FROM sign_in_session WHERE hash = @hash", new { hash = secrets.Hmac(value) }), ct);
}
