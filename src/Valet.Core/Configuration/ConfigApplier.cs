using Valet.Core.Items;
using Valet.Core.Security;
using Valet.Core.Storage;
using Valet.Core.Triggers;

namespace Valet.Core.Configuration;

/// <summary>
/// Applies the configuration file at start: creates or replaces the items and users it names, in one
/// transaction. Items it does not name are left alone; builds, queue items and API-made tokens are kept.
/// </summary>
public sealed class ConfigApplier(Database db, ItemStore items, JobTokens tokens, TimeProvider time)
{
    /// <summary>Problems that stop the start (an entry that would change an item's kind, or nest under a job).</summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(ValetConfig config, string source, CancellationToken ct)
    {
        try
        {
            await db.WriteAsync(s => ApplyAsync(s, config, source), ct);
            return [];
        }
        catch (ConfigApplyException e)
        {
            return e.Problems;
        }
    }

    async Task ApplyAsync(Session s, ValetConfig config, string source)
    {
        var problems = new List<string>();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var entry in config.Folders.Concat(config.Jobs).OrderBy(e => ItemName.Segments(e.FullName).Length))
        {
            var (outcome, item) = await items.SaveAsync(s, entry.FullName, entry.Definition, source, createParents: true);
            switch (outcome)
            {
                case ItemStore.SaveOutcome.ParentNotFolder:
                    problems.Add($"{source}: '{entry.FullName}': a parent of this item is a job, not a folder");
                    continue;
                case ItemStore.SaveOutcome.KindChanged:
                    problems.Add($"{source}: '{entry.FullName}' already exists as a {(item!.IsFolder ? "folder" : "job")}; an item's type cannot change");
                    continue;
            }
            if (item!.IsJob)
                await tokens.SetDefaultAsync(s, item.Id, entry.AuthToken);
        }
        foreach (var user in config.Security.Users)
            await UserStore.SaveAsync(s, user.Id, user.FullName ?? user.Id, user.Password, source, replace: true, now);
        if (problems.Count > 0)
            throw new ConfigApplyException(problems);
    }

    // Thrown inside the write so that the whole application rolls back when any entry is refused.
    sealed class ConfigApplyException(IReadOnlyList<string> problems) : Exception(string.Join("; ", problems))
    {
        public IReadOnlyList<string> Problems { get; } = problems;
    }
}
