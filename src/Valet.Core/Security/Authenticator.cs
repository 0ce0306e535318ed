using System.Collections.Concurrent;

namespace Valet.Core.Security;

/// <summary>
/// Checks a user id and secret: the secret is tried as the user's API tokens first, then as the
/// password. PBKDF2 is slow on purpose (about 100 ms), so successful password checks are remembered
/// for a short while, keyed by an HMAC of user and secret (never the secret itself) and tied to the
/// stored hash, so a password change forgets them.
/// </summary>
public sealed class Authenticator(UserStore users, ApiTokens tokens, InstallationSecrets secrets, TimeProvider time)
{
    public static readonly TimeSpan CacheTtl = TimeSpan.FromMinutes(2);
    const int CacheLimit = 10_000;

    // Verified against when the user does not exist, so an unknown id costs as much as a wrong password.
    static readonly string DummyHash = PasswordHasher.Hash("valet-no-such-user");

    readonly ConcurrentDictionary<string, (string PasswordHash, DateTimeOffset Until)> verified = new(StringComparer.Ordinal);

    /// <summary>HTTP Basic: API token, then password. Null when neither matches.</summary>
    public async Task<Caller?> BasicAsync(string userId, string secret, CancellationToken ct)
    {
        var user = await users.FindAsync(userId, ct);
        if (user is null)
        {
            PasswordHasher.Verify(secret, DummyHash);
            return null;
        }
        if (await tokens.MatchAsync(user.Id, secret, ct) is not null)
            return new Caller(user.Id, user.FullName, ByApiToken: true);
        return VerifyPassword(user, secret) ? new Caller(user.Id, user.FullName) : null;
    }

    /// <summary>The sign-in form: the password only.</summary>
    public async Task<User?> PasswordAsync(string userId, string password, CancellationToken ct)
    {
        var user = await users.FindAsync(userId, ct);
        if (user is null)
        {
            PasswordHasher.Verify(password, DummyHash);
            return null;
        }
        return VerifyPassword(user, password) ? user : null;
    }

    bool VerifyPassword(User user, string password)
    {
        var key = secrets.HmacHex(user.Id.ToUpperInvariant() + "\n" + password);
        var now = time.GetUtcNow();
        if (verified.TryGetValue(key, out var hit) && hit.Until > now && hit.PasswordHash == user.PasswordHash)
            return true;
        if (!PasswordHasher.Verify(password, user.PasswordHash))
            return false;
        if (verified.Count >= CacheLimit)
            verified.Clear();
        verified[key] = (user.PasswordHash, now + CacheTtl);
        return true;
    }
}
