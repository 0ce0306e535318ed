using Microsoft.Extensions.Logging.Abstractions;
using Valet.Core.Configuration;
using Valet.Core.Triggers;
using Xunit;

namespace Valet.Core.Tests.Triggers;

public class TriggerAuditTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static TriggerAudit Audit(TempStore store) =>
        new(store.Db, new TriggerGuardSettings { WindowSeconds = 60 }, store.Time, NullLogger<TriggerAudit>.Instance);

    static AuditEntry Entry(TempStore store, long status, string? job = "p", string address = "203.0.113.9", string? reason = null,
        long? queueId = null, string? idempotencyKey = null, string? tokenName = null) =>
        new(0, store.Time.GetUtcNow().ToUnixTimeMilliseconds(), "build", job, job, address, status, reason, queueId, idempotencyKey, tokenName, 1);

    [Fact]
    public async Task Entries_come_back_exactly_as_recorded()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var audit = Audit(store);
        // What a caller may send as `job` or Idempotency-Key: quotes, backslashes, control characters,
        // text beyond the basic plane, and nothing at all.
        string?[] jobs = ["plain", "quote \" and back\\slash", "tab\tnew\nline\0nul", "ünïcödé 🚀 𝄞", "", null];
        for (var i = 0; i < jobs.Length; i++)
            audit.Record(Entry(store, 201, job: jobs[i], queueId: i == 0 ? null : long.MaxValue - i, idempotencyKey: jobs[i], tokenName: jobs[i]));
        await audit.FlushAsync(Ct);

        var entries = (await audit.ListAsync(100, null, Ct)).Reverse().ToList();
        Assert.Equal(jobs.Length, entries.Count);
        for (var i = 0; i < jobs.Length; i++)
        {
            // PostgreSQL's text cannot hold U+0000: it is stored as U+FFFD there, and everything else as sent.
            var job = Engine == StoreEngine.Postgres ? jobs[i]?.Replace('\0', '\uFFFD') : jobs[i];
            var expected = Entry(store, 201, job: job, queueId: i == 0 ? null : long.MaxValue - i, idempotencyKey: job, tokenName: job);
            Assert.Equal(expected with { Id = entries[i].Id }, entries[i]);
        }
    }

    [Fact]
    public async Task Entries_keep_their_order_around_collapsed_429s()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var audit = Audit(store);
        audit.Record(Entry(store, 403, reason: "bad-token"));
        audit.Record(Entry(store, 429, reason: "rate-limited"));
        audit.Record(Entry(store, 201, queueId: 7));
        audit.Record(Entry(store, 429, reason: "rate-limited"));
        audit.Record(Entry(store, 429, reason: "rate-limited", address: "198.51.100.4"));
        audit.Record(Entry(store, 303, queueId: 7));
        await audit.FlushAsync(Ct);
        // A later flush still counts on the open 429 entry of its address.
        audit.Record(Entry(store, 429, reason: "rate-limited"));
        audit.Record(Entry(store, 404, job: "nope"));
        await audit.FlushAsync(Ct);

        var entries = (await audit.ListAsync(100, null, Ct)).Reverse()
            .Select(e => (e.Status, e.Address, e.Count)).ToList();
        Assert.Equal(
        [
            (403, "203.0.113.9", 1),
            (429, "203.0.113.9", 3),
            (201, "203.0.113.9", 1),
            (429, "198.51.100.4", 1),
            (303, "203.0.113.9", 1),
            (404, "203.0.113.9", 1),
        ], entries);
    }

    [Fact]
    public async Task A_large_flush_writes_every_entry_once_in_order()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var audit = Audit(store);
        const int Count = 4500;
        for (var i = 0; i < Count; i++)
            audit.Record(Entry(store, 303, queueId: i));
        await audit.FlushAsync(Ct);

        var ids = new List<long>();
        long? before = null;
        do
        {
            var page = await audit.ListAsync(1000, before, Ct);
            ids.AddRange(page.Select(e => e.QueueId!.Value));
            before = page.Count == 1000 ? page[^1].Id : null;
        }
        while (before is not null);
        Assert.Equal(Enumerable.Range(0, Count).Reverse().Select(i => (long)i), ids);
    }
}

public sealed class TriggerAuditOnPostgresTests : TriggerAuditTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;
}
