using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Valet.Core;
using Valet.Core.Configuration;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Scm;
using Valet.Core.Security;
using Valet.Core.Storage;
using Valet.Server.Hosting;
using Valet.Server.Security;

namespace Valet.Server.Items;

/// <summary>
/// Valet's native item API (remote-api.md §7): an item's entry in the config-file format as JSON,
/// created or replaced with PUT, removed with DELETE. Items named in the config file are managed
/// there: writes to them answer 409 naming the file.
/// </summary>
public static class ItemConfigEndpoints
{

    public static IResult ManagedByFile(Item item) =>
        Http.Error(409, "managed-by-file", $"{item.FullName} is managed by the configuration file {item.ManagedBy}: change it there");

    public static ContentHttpResult Get(ItemContext item) =>
        TypedResults.Text(ConfigWriter.Entry(item.Item).ToJsonString(), "application/json; charset=utf-8", Encoding.UTF8);

    /// <summary>Creates or replaces the item; a missing item is created when its parent exists and the caller may create there.</summary>
    public static async Task<IResult> PutAsync(HttpContext context, ItemTarget target, Database db, ItemStore items, ItemAccess access, CancellationToken ct)
    {
        var names = target.Names;
        var existing = await access.ResolveAsync(context, names, Permission.JobConfigure, ct);
        Item? item = existing.Item;
        if (item is null)
        {
            // Only "missing" may go on to a create; other refusals stand.
            if (existing.Outcome != AccessOutcome.NotFound || existing.Path.Count != names.Count - 1)
                return existing.Refusal!;
            if (names.Count > 1)
            {
                var parent = await access.ResolveAsync(context, names.Take(names.Count - 1).ToList(), Permission.JobCreate, ct);
                if (parent.Refusal is not null)
                    return parent.Refusal;
                if (!parent.Item!.IsFolder)
                    return Refusals.NotFound("The parent is not a folder");
            }
            else if (!access.Has(context, Permission.JobCreate, []))
            {
                return Refusals.Forbidden(Permission.JobCreate);
            }
            if (ItemName.Problem(names[^1]) is { } problem)
                return Http.Error(400, "bad-name", $"'{names[^1]}': {problem}");
        }
        else if (item.ManagedBy is not null)
        {
            return ManagedByFile(item);
        }

        if (context.Request.ContentLength > BodyLimitMiddleware.Limit)
            return BodyLimitMiddleware.TooLarge();
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
            body = await reader.ReadToEndAsync(ct);
        var fullName = item?.FullName ?? string.Join('/', names);
        var parsed = ConfigFile.ParseItem("config.json", body, fullName);
        if (parsed.Config is null)
            return Http.Error(400, "bad-config", string.Join("; ", parsed.Errors));
        var entry = parsed.Config.Folders.Concat(parsed.Config.Jobs).SingleOrDefault();
        if (entry is null)
            return Http.Error(400, "bad-config", "config.json: the body must be an item entry (a JSON object)");
        if (!string.Equals(ItemName.Key(entry.FullName), ItemName.Key(fullName), StringComparison.Ordinal))
            return Http.Error(400, "bad-config", $"config.json: name '{entry.FullName}' does not match the URL's '{fullName}'");
        if (item is not null && item.IsFolder != (entry.Definition is Folder))
            return Http.Error(400, "bad-config", $"{fullName} is a {(item.IsFolder ? "folder" : "job")}; an item's type cannot change");

        var definition = GitUrl.KeepPassword(entry.Definition, item?.Definition);
        var (outcome, saved) = await db.WriteAsync(s => items.SaveAsync(s, fullName, definition, null, createParents: false), ct);
        return outcome switch
        {
            ItemStore.SaveOutcome.Created => Http.Empty(201, Http.BaseUrl(context) + saved!.UrlPath),
            ItemStore.SaveOutcome.Updated => Http.Empty(200),
            ItemStore.SaveOutcome.KindChanged => Http.Error(400, "bad-config", $"{fullName}: an item's type cannot change"),
            _ => Refusals.NotFound("The parent folder does not exist"),
        };
    }

    /// <summary>Deletes an item and everything below it: queued items cancelled, running builds aborted, builds and logs removed.</summary>
    public static async Task<IResult> DeleteAsync(HttpContext context, ItemContext target, Database db, ItemStore items, BuildQueue queue, BuildDispatcher dispatcher, ValetHome home, TimeProvider time, CancellationToken ct)
    {
        var item = target.Item;
        if (item.ManagedBy is not null)
            return ManagedByFile(item);
        var doomed = (await items.AllAsync(ct)).Where(i => i.Id == item.Id || i.FullName.StartsWith(item.FullName + "/", StringComparison.OrdinalIgnoreCase)).ToList();
        var managed = doomed.FirstOrDefault(i => i.ManagedBy is not null);
        if (managed is not null)
            return ManagedByFile(managed);
        var jobIds = doomed.Where(i => i.IsJob).Select(i => i.Id).ToHashSet();
        await db.WriteAsync(async s =>
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var id in jobIds)
                await queue.CancelAllAsync(s, id, now);
        }, ct);
        await dispatcher.AbortAllAsync(jobIds, context.Caller().FullName, ct);
        await db.WriteAsync(s => items.DeleteAsync(s, item.Id), ct);
        foreach (var job in doomed.Where(i => i.IsJob))
        {
            TryDelete(home.JobDirectory(job.Id));
            TryDelete(home.Workspace(job.FullName, 1));
        }
        return Http.Empty(204);
    }

    static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // What could not be removed now is unreachable: its item is gone.
        }
    }
}
