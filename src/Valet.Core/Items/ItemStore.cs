using Valet.Core.Security;
using Valet.Core.Storage;

namespace Valet.Core.Items;

/// <summary>The item tree in the database: folders and jobs by id or case-insensitive full name.</summary>
public sealed class ItemStore(Database db, InstallationSecrets secrets, TimeProvider time)
{
    const string Columns = "id, parent_id, name, full_name, config, managed_by, next_build_number";

    sealed record Row(long Id, long? ParentId, string Name, string FullName, string Config, string? ManagedBy, long NextBuildNumber);

    Item ToItem(Row r) => new(r.Id, r.ParentId, r.Name, r.FullName, MapPasswordDefaults(StoredDefinition.Read(r.Config), secrets.Decrypt), r.ManagedBy, r.NextBuildNumber);

    /// <summary>Password parameters' defaults are kept encrypted at rest, like their values.</summary>
    string Serialize(ItemDefinition definition) => StoredDefinition.Write(MapPasswordDefaults(definition, secrets.Encrypt));

    static ItemDefinition MapPasswordDefaults(ItemDefinition definition, Func<string, string> map) =>
        definition is JobDefinition job && job.Parameters.Any(p => p.Type == ParameterType.Password && !string.IsNullOrEmpty(p.Default))
            ? job with
            {
                Parameters = [.. job.Parameters.Select(p => p.Type == ParameterType.Password && !string.IsNullOrEmpty(p.Default) ? p with { Default = map(p.Default) } : p)],
            }
            : definition;

    // Paths by full key: every trigger and API request resolves one.
    readonly ReadCache<string, IReadOnlyList<Item>> paths = new(db, "items");

    static string FullKey(string fullName) => ItemName.Key(string.Join('/', ItemName.Segments(fullName)));

    public Task<Item?> FindAsync(string fullName, CancellationToken ct) =>
        db.ReadAsync(s => FindAsync(s, fullName), ct);

    public async Task<Item?> FindAsync(Session s, string fullName) =>
        (await s.QueryFirstOrDefaultAsync<Row>($"SELECT {Columns} FROM item WHERE full_key = @key", new { key = FullKey(fullName) })) is { } r ? ToItem(r) : null;

    public Task<Item?> GetAsync(long id, CancellationToken ct) => db.ReadAsync(s => GetAsync(s, id), ct);

    public async Task<Item?> GetAsync(Session s, long id) =>
        (await s.QueryFirstOrDefaultAsync<Row>($"SELECT {Columns} FROM item WHERE id = @id", new { id })) is { } r ? ToItem(r) : null;

    public Task<IReadOnlyList<Item>> ChildrenAsync(long? parentId, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<Item>>(async s => (await s.QueryAsync<Row>(
            $"SELECT {Columns} FROM item WHERE {(parentId is null ? "parent_id IS NULL" : "parent_id = @parentId")} ORDER BY full_key", new { parentId })).Select(ToItem).ToList(), ct);

    public Task<IReadOnlyList<Item>> AllAsync(CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<Item>>(async s => (await s.QueryAsync<Row>($"SELECT {Columns} FROM item ORDER BY full_key")).Select(ToItem).ToList(), ct);

    /// <summary>
    /// The items along a path, outermost first, as far as they exist: "a/b/c" gives a, a/b, a/b/c,
    /// or fewer when a segment is missing.
    /// </summary>
    /// <remarks>
    /// A name beyond limits.md §1 is unknown without a lookup; only complete paths are cached, so
    /// unknown names cost no memory.
    /// </remarks>
    public Task<IReadOnlyList<Item>> PathAsync(string fullName, CancellationToken ct)
    {
        if (!ItemName.WithinLimits(fullName))
            return Task.FromResult<IReadOnlyList<Item>>([]);
        var segments = ItemName.Segments(fullName);
        return paths.GetAsync(FullKey(fullName), () => ReadPathAsync(segments, ct), path => path.Count == segments.Length);
    }

    Task<IReadOnlyList<Item>> ReadPathAsync(string[] segments, CancellationToken ct) =>
        db.ReadAsync<IReadOnlyList<Item>>(async s =>
        {
            // Each prefix extends the one before: at most 64 segments keep this linear in the name's length.
            var keys = new List<string>(segments.Length);
            foreach (var segment in segments)
                keys.Add(keys.Count == 0 ? ItemName.Key(segment) : keys[^1] + "/" + ItemName.Key(segment));
            var rows = (await s.QueryAsync<Row>($"SELECT {Columns} FROM item WHERE full_key {db.Dialect.InList("@keys")}", new { keys }))
                .ToDictionary(r => FullKey(r.FullName));
            var path = new List<Item>();
            foreach (var key in keys)
            {
                if (!rows.TryGetValue(key, out var row))
                    break;
                path.Add(ToItem(row));
            }
            return path;
        }, ct);

    public enum SaveOutcome { Created, Updated, ParentMissing, ParentNotFolder, KindChanged }

    /// <summary>
    /// Creates or replaces an item. With <paramref name="createParents"/> missing parents become folders
    /// (the config file's rule); otherwise a missing parent is refused. Runs inside a write session.
    /// </summary>
    public async Task<(SaveOutcome Outcome, Item? Item)> SaveAsync(Session s, string fullName, ItemDefinition definition, string? managedBy, bool createParents)
    {
        paths.InvalidateWith(s);
        var segments = ItemName.Segments(fullName);
        long? parentId = null;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < segments.Length - 1; i++)
        {
            var parentName = string.Join('/', segments.Take(i + 1));
            var parent = await FindAsync(s, parentName);
            if (parent is null)
            {
                if (!createParents)
                    return (SaveOutcome.ParentMissing, null);
                parent = await InsertAsync(s, parentId, segments[i], parentName, new Folder(), null, now);
            }
            else if (!parent.IsFolder)
            {
                return (SaveOutcome.ParentNotFolder, null);
            }
            parentId = parent.Id;
        }
        var existing = await FindAsync(s, fullName);
        if (existing is null)
            return (SaveOutcome.Created, await InsertAsync(s, parentId, segments[^1], string.Join('/', segments), definition, managedBy, now));
        if (existing.IsFolder != (definition is Folder))
            return (SaveOutcome.KindChanged, existing);
        await s.ExecuteAsync("UPDATE item SET config = @config, kind = @kind, managed_by = @managedBy WHERE id = @id",
            new { config = Serialize(definition), kind = StoredDefinition.Kind(definition), managedBy, id = existing.Id });
        return (SaveOutcome.Updated, existing with { Definition = definition, ManagedBy = managedBy });
    }

    async Task<Item> InsertAsync(Session s, long? parentId, string name, string fullName, ItemDefinition definition, string? managedBy, long now)
    {
        var id = await s.QuerySingleAsync<long>(
            """
            INSERT INTO item (parent_id, name, full_name, full_key, kind, config, managed_by, created_at)
            VALUES (@parentId, @name, @fullName, @key, @kind, @config, @managedBy, @now) RETURNING id
            """,
            new { parentId, name, fullName, key = FullKey(fullName), kind = StoredDefinition.Kind(definition), config = Serialize(definition), managedBy, now });
        return new Item(id, parentId, name, fullName, definition, managedBy, 1);
    }

    /// <summary>Deletes an item and everything below it (builds, queue items and tokens go with it).</summary>
    public Task DeleteAsync(Session s, long id)
    {
        paths.InvalidateWith(s);
        return s.ExecuteAsync("DELETE FROM item WHERE id = @id", new { id });
    }

    /// <summary>Takes the job's next build number: numbers are never reused.</summary>
    public Task<long> TakeBuildNumberAsync(Session s, long jobId)
    {
        paths.InvalidateWith(s);
        return s.QuerySingleAsync<long>(
            "UPDATE item SET next_build_number = next_build_number + 1 WHERE id = @jobId RETURNING next_build_number - 1", new { jobId });
    }
}
