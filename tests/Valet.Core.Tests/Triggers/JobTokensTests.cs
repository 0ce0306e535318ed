using Dapper;
using Microsoft.Data.Sqlite;
using Valet.Core.Triggers;
using Xunit;

namespace Valet.Core.Tests.Triggers;

public class JobTokensTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static JobTokens Tokens(TempStore store) => new(store.Db, store.Secrets, store.Time);

    static Task SetDefaultAsync(TempStore store, long jobId, string? value) =>
        store.Db.WriteAsync(s => Tokens(store).SetDefaultAsync(s, jobId, value), Ct);

    [Fact]
    public async Task A_default_value_creates_the_default_token()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        await SetDefaultAsync(store, job.Id, "secret");
        var token = Assert.Single(await Tokens(store).ListAsync(job.Id, Ct));
        Assert.Equal(JobTokens.DefaultName, token.Name);
        Assert.Equal(store.Time.GetUtcNow().ToUnixTimeMilliseconds(), token.CreatedAt);
        Assert.True(token.ActiveAt(store.Time.GetUtcNow().ToUnixTimeMilliseconds()));
        Assert.Equal(token, (await Tokens(store).CheckAsync(job.Id, "secret", Ct)).Match);
        Assert.True((await Tokens(store).CheckAsync(job.Id, null, Ct)).AnyActive);
    }

    [Fact]
    public async Task An_unchanged_default_value_keeps_the_token_and_its_metadata()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        await SetDefaultAsync(store, job.Id, "secret");
        var before = Assert.Single(await Tokens(store).ListAsync(job.Id, Ct));
        await RecordUseAsync(store, before.Id, "10.0.0.7");
        store.Time.Advance(TimeSpan.FromMinutes(1));
        await SetDefaultAsync(store, job.Id, "secret");
        var after = Assert.Single(await Tokens(store).ListAsync(job.Id, Ct));
        Assert.Equal(before with { LastUsedAt = before.CreatedAt, LastUsedAddress = "10.0.0.7" }, after);
    }

    [Fact]
    public async Task A_new_default_value_replaces_the_old_one()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        await SetDefaultAsync(store, job.Id, "old-secret");
        await SetDefaultAsync(store, job.Id, "new-secret");
        Assert.Equal(JobTokens.DefaultName, Assert.Single(await Tokens(store).ListAsync(job.Id, Ct)).Name);
        Assert.Null((await Tokens(store).CheckAsync(job.Id, "old-secret", Ct)).Match);
        Assert.NotNull((await Tokens(store).CheckAsync(job.Id, "new-secret", Ct)).Match);
    }

    [Fact]
    public async Task Setting_a_revoked_default_value_again_makes_it_active()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        await SetDefaultAsync(store, job.Id, "secret");
        Assert.True(await Tokens(store).RevokeAsync(job.Id, JobTokens.DefaultName, Ct));
        Assert.False((await Tokens(store).CheckAsync(job.Id, null, Ct)).AnyActive);
        await SetDefaultAsync(store, job.Id, "secret");
        Assert.True((await Tokens(store).CheckAsync(job.Id, null, Ct)).AnyActive);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task No_default_value_removes_the_default_token_only(string? value)
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        await SetDefaultAsync(store, job.Id, "secret");
        var (_, generated, _) = await Tokens(store).CreateAsync(job.Id, "ci", null, Ct);
        await SetDefaultAsync(store, job.Id, value);
        Assert.Equal("ci", Assert.Single(await Tokens(store).ListAsync(job.Id, Ct)).Name);
        Assert.Null((await Tokens(store).CheckAsync(job.Id, "secret", Ct)).Match);
        Assert.Equal("ci", (await Tokens(store).CheckAsync(job.Id, generated!, Ct)).Match?.Name);
    }

    [Fact]
    public async Task A_presented_value_matches_the_right_token_among_several()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var other = await store.CreateAsync("q");
        await SetDefaultAsync(store, job.Id, "secret");
        await SetDefaultAsync(store, other.Id, "other-secret");
        var (outcome, ci, _) = await Tokens(store).CreateAsync(job.Id, "ci", null, Ct);
        var (_, nightly, _) = await Tokens(store).CreateAsync(job.Id, "nightly", null, Ct);

        Assert.Equal(JobTokens.CreateOutcome.Created, outcome);
        Assert.Equal("ci", (await Tokens(store).CheckAsync(job.Id, ci!, Ct)).Match?.Name);
        Assert.Equal("nightly", (await Tokens(store).CheckAsync(job.Id, nightly!, Ct)).Match?.Name);
        Assert.Equal("default", (await Tokens(store).CheckAsync(job.Id, "secret", Ct)).Match?.Name);
        Assert.Null((await Tokens(store).CheckAsync(job.Id, "other-secret", Ct)).Match);
    }

    [Theory]
    [InlineData("")]
    [InlineData("SECRET")]
    [InlineData("Secret")]
    [InlineData(" secret")]
    [InlineData("secret ")]
    [InlineData("secre")]
    [InlineData("secrets")]
    public async Task Empty_other_case_and_near_values_never_match(string presented)
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        await SetDefaultAsync(store, job.Id, "secret");
        Assert.Null((await Tokens(store).CheckAsync(job.Id, presented, Ct)).Match);
    }

    [Fact]
    public async Task A_job_without_tokens_matches_nothing()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        Assert.Null((await Tokens(store).CheckAsync(job.Id, "secret", Ct)).Match);
        Assert.False((await Tokens(store).CheckAsync(job.Id, null, Ct)).AnyActive);
    }

    [Fact]
    public async Task Revoked_and_expired_tokens_still_match_but_are_not_active()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        var tokens = Tokens(store);
        var expiresAt = store.Time.GetUtcNow().AddMinutes(10).ToUnixTimeMilliseconds();
        var (_, revokedValue, _) = await tokens.CreateAsync(job.Id, "revoked", null, Ct);
        var (_, expiringValue, _) = await tokens.CreateAsync(job.Id, "expiring", expiresAt, Ct);
        Assert.True(await tokens.RevokeAsync(job.Id, "revoked", Ct));
        Assert.True(await tokens.RevokeAsync(job.Id, "revoked", Ct));
        Assert.False(await tokens.RevokeAsync(job.Id, "unknown", Ct));

        var revoked = (await tokens.CheckAsync(job.Id, revokedValue!, Ct)).Match!;
        Assert.True(revoked.Revoked);
        Assert.False(revoked.ActiveAt(store.Time.GetUtcNow().ToUnixTimeMilliseconds()));

        var expiring = (await tokens.CheckAsync(job.Id, expiringValue!, Ct)).Match!;
        Assert.True(expiring.ActiveAt(expiresAt - 1));
        Assert.False(expiring.ActiveAt(expiresAt));
        Assert.True((await tokens.CheckAsync(job.Id, null, Ct)).AnyActive);
        store.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.False((await tokens.CheckAsync(job.Id, null, Ct)).AnyActive);
    }

    [Fact]
    public async Task A_token_name_is_taken_once_per_job()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var p = await store.CreateAsync("p");
        var q = await store.CreateAsync("q");
        var tokens = Tokens(store);
        Assert.Equal(JobTokens.CreateOutcome.Created, (await tokens.CreateAsync(p.Id, "ci", null, Ct)).Outcome);
        Assert.Equal((JobTokens.CreateOutcome.NameTaken, (string?)null, 0L), await tokens.CreateAsync(p.Id, "ci", null, Ct));
        Assert.Equal(JobTokens.CreateOutcome.Created, (await tokens.CreateAsync(q.Id, "ci", null, Ct)).Outcome);
    }

    [Fact]
    public async Task A_match_records_its_last_use()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        await SetDefaultAsync(store, job.Id, "secret");
        var token = (await Tokens(store).CheckAsync(job.Id, "secret", Ct)).Match!;
        Assert.Null(token.LastUsedAt);
        store.Time.Advance(TimeSpan.FromSeconds(30));
        await RecordUseAsync(store, token.Id, "203.0.113.9");
        var used = Assert.Single(await Tokens(store).ListAsync(job.Id, Ct));
        Assert.Equal((store.Time.GetUtcNow().ToUnixTimeMilliseconds(), "203.0.113.9"), (used.LastUsedAt!.Value, used.LastUsedAddress));
    }

    [Fact]
    public async Task The_database_file_never_holds_a_token_value()
    {
        const string ConfigValue = "config-token-8f31c2";
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await store.CreateAsync("p");
        await SetDefaultAsync(store, job.Id, ConfigValue);
        var (_, generated, _) = await Tokens(store).CreateAsync(job.Id, "ci", null, Ct);
        await Tokens(store).CheckAsync(job.Id, "presented-wrong-value-77ab", Ct);

        var rows = await store.Db.ReadAsync(async s => (await s.QueryAsync<byte[]>("SELECT hash FROM job_token")).ToList(), Ct);
        Assert.Equal(2, rows.Count);
        Assert.All(rows, h => Assert.Equal(32, h.Length));
        var files = store.RawFiles();
        foreach (var value in new[] { ConfigValue, generated!, generated![4..], "presented-wrong-value-77ab" })
            Assert.DoesNotContain(value, files, StringComparison.Ordinal);
    }

    /// <summary>Last use is written as the token endpoints write it: queued to the audit writer, then flushed.</summary>
    static async Task RecordUseAsync(TempStore store, long tokenId, string address)
    {
        var audit = new TriggerAudit(store.Db, new Valet.Core.Configuration.TriggerGuardSettings(), store.Time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<TriggerAudit>.Instance);
        audit.RecordTokenUse(tokenId, address);
        await audit.FlushAsync(Ct);
    }
}

public sealed class JobTokensOnPostgresTests : JobTokensTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
