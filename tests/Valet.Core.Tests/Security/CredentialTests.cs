using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Valet.Core.Security;
using Valet.Core.Storage;
using Xunit;

namespace Valet.Core.Tests.Security;

/// <summary>API tokens, the password check and its cache, sign-in sessions and crumbs, on a real SQLite file.</summary>
public sealed class CredentialTests : IAsyncLifetime
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "valet-core-" + Guid.NewGuid().ToString("N")[..12]);
    readonly FakeTimeProvider time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));
    Database db = null!;
    InstallationSecrets secrets = null!;
    UserStore users = null!;
    ApiTokens tokens = null!;
    Authenticator authenticator = null!;

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(dir);
        var home = new ValetHome(dir);
        db = new SqliteDatabase(home.DatabaseFile, NullLogger<SqliteDatabase>.Instance);
        await db.OpenAsync(CancellationToken.None);
        secrets = InstallationSecrets.CreateOrOpen(home);
        users = new UserStore(db, time);
        tokens = new ApiTokens(db, secrets, time);
        authenticator = new Authenticator(users, tokens, secrets, time);
        await users.CreateIfMissingAsync("alice", "Alice", "first-password", CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await db.DisposeAsync();
        Directory.Delete(dir, recursive: true);
    }

    Task SetPasswordAsync(string password) =>
        db.WriteAsync(s => UserStore.SaveAsync(s, "alice", "Alice", password, null, replace: true, 0), CancellationToken.None);

    [Fact]
    public async Task A_token_authenticates_as_an_api_token_caller_and_counts_its_uses()
    {
        var (token, value) = await tokens.CreateAsync("alice", "ci", null, CancellationToken.None);
        var caller = await authenticator.BasicAsync("ALICE", value, CancellationToken.None);
        Assert.Equal(new Caller("alice", "Alice", ByApiToken: true), caller);
        time.Advance(TimeSpan.FromSeconds(5));
        await authenticator.BasicAsync("alice", value, CancellationToken.None);
        var listed = Assert.Single(await tokens.ListAsync("alice", CancellationToken.None));
        Assert.Equal(token.Uuid, listed.Uuid);
        Assert.Equal(2, listed.UseCount);
        Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds(), listed.LastUsedAt);
    }

    [Fact]
    public async Task Revoked_and_expired_tokens_no_longer_authenticate()
    {
        var (revoked, revokedValue) = await tokens.CreateAsync("alice", "a", null, CancellationToken.None);
        var (_, expiringValue) = await tokens.CreateAsync("alice", "b", time.GetUtcNow().AddMinutes(1).ToUnixTimeMilliseconds(), CancellationToken.None);
        Assert.True(await tokens.RevokeAsync("alice", revoked.Uuid, CancellationToken.None));
        Assert.Null(await authenticator.BasicAsync("alice", revokedValue, CancellationToken.None));
        Assert.NotNull(await authenticator.BasicAsync("alice", expiringValue, CancellationToken.None));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await authenticator.BasicAsync("alice", expiringValue, CancellationToken.None));
        Assert.False(await tokens.RevokeAsync("alice", revoked.Uuid, CancellationToken.None));
    }

    [Fact]
    public async Task The_password_authenticates_as_an_ordinary_caller_and_a_change_forgets_the_cached_check()
    {
        Assert.Equal(new Caller("alice", "Alice"), await authenticator.BasicAsync("alice", "first-password", CancellationToken.None));
        Assert.NotNull(await authenticator.BasicAsync("alice", "first-password", CancellationToken.None));
        await SetPasswordAsync("second-password");
        Assert.Null(await authenticator.BasicAsync("alice", "first-password", CancellationToken.None));
        Assert.NotNull(await authenticator.PasswordAsync("alice", "second-password", CancellationToken.None));
        Assert.Null(await authenticator.BasicAsync("nobody", "second-password", CancellationToken.None));
    }

    [Fact]
    public async Task Only_the_keyed_hash_of_a_token_is_stored()
    {
        var (_, value) = await tokens.CreateAsync("alice", "ci", null, CancellationToken.None);
        var hashes = await db.ReadAsync(s => s.QueryAsync<byte[]>("SELECT hash FROM api_token"), CancellationToken.None);
        Assert.Equal(secrets.Hmac(value), Assert.Single(hashes));
    }

    [Fact]
    public async Task A_sign_in_session_ends_at_sign_out_at_expiry_or_when_the_password_changes()
    {
        var sessions = new SignInSessions(db, users, secrets, time);
        var alice = (await users.FindAsync("alice", CancellationToken.None))!;
        var closed = await sessions.OpenAsync(alice, CancellationToken.None);
        var expiring = await sessions.OpenAsync(alice, CancellationToken.None);
        Assert.Equal("alice", (await sessions.FindAsync(closed, CancellationToken.None))?.Id);
        await sessions.CloseAsync(closed, CancellationToken.None);
        Assert.Null(await sessions.FindAsync(closed, CancellationToken.None));

        time.Advance(SignInSessions.Lifetime);
        Assert.Null(await sessions.FindAsync(expiring, CancellationToken.None));

        var stale = await sessions.OpenAsync(alice, CancellationToken.None);
        await SetPasswordAsync("changed-password");
        Assert.Null(await sessions.FindAsync(stale, CancellationToken.None));
        Assert.Null(await sessions.FindAsync("forged", CancellationToken.None));
    }

    [Fact]
    public void A_crumb_is_tied_to_the_user_and_the_session()
    {
        var crumbs = new Crumbs(secrets);
        var alice = new Caller("alice", "Alice");
        var session = Crumbs.NewSession();
        Assert.Equal(32, session.Length);
        var crumb = crumbs.For(alice, session);
        Assert.Matches("^[0-9a-f]{64}$", crumb);
        Assert.Equal(secrets.HmacHex("alice;" + session), crumb);
        Assert.Equal(secrets.HmacHex("anonymous;" + session), crumbs.For(Caller.Anonymous, session));
        Assert.True(crumbs.IsValid(alice, session, crumb));
        Assert.False(crumbs.IsValid(Caller.Anonymous, session, crumb));
        Assert.False(crumbs.IsValid(alice, Crumbs.NewSession(), crumb));
        Assert.False(crumbs.IsValid(alice, null, crumb));
        Assert.False(crumbs.IsValid(alice, session, null));
        Assert.False(crumbs.IsValid(alice, session, crumb[..63]));
    }
}
