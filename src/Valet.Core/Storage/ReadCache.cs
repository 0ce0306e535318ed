using System.Collections.Concurrent;

namespace Valet.Core.Storage;

/// <summary>
/// Remembers reads that change rarely (items, job tokens) for the hot paths. A write that changes
/// them calls <see cref="Invalidate"/> both inside its transaction and, through
/// <see cref="Session.AfterCommit"/>, after it; a read stores its result only if no invalidation
/// happened while it ran, so a value read before a commit is never kept after it.
/// The write also announces <paramref name="topic"/>, so the caches of other servers sharing the
/// store forget it as soon as the commit's notification reaches them (and, while this server may be
/// missing notifications, nothing is served from the cache).
/// </summary>
public sealed class ReadCache<TKey, TValue> where TKey : notnull
{
    readonly ConcurrentDictionary<TKey, TValue> entries = new();
    readonly Database db;
    readonly string topic;
    long generation;

    public ReadCache(Database db, string topic)
    {
        this.db = db;
        this.topic = topic;
        db.Announced += announced =>
        {
            if (announced == topic || announced == "*")
                Invalidate();
        };
    }

    public Task<TValue> GetAsync(TKey key, Func<Task<TValue>> read) => GetAsync(key, read, static _ => true);

    /// <param name="keep">Whether a value read is worth keeping: misses are not, or anyone could fill the cache.</param>
    public async Task<TValue> GetAsync(TKey key, Func<Task<TValue>> read, Func<TValue, bool> keep)
    {
        if (!db.Hearing)
            return await read();
        if (entries.TryGetValue(key, out var cached))
            return cached;
        var before = Interlocked.Read(ref generation);
        var value = await read();
        if (keep(value) && Interlocked.Read(ref generation) == before && entries.Count < 100_000 && db.Hearing)
            entries.TryAdd(key, value);
        return value;
    }

    public void Invalidate()
    {
        Interlocked.Increment(ref generation);
        entries.Clear();
    }

    /// <summary>Invalidates now and again once the session's transaction has ended, here and on every other server.</summary>
    public void InvalidateWith(Session s)
    {
        Invalidate();
        s.AfterCommit(Invalidate);
        s.Announce(topic);
    }
}
