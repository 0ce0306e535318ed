using System.Text;
using Valet.Core;
using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Queue;
using Valet.Core.Security;
using Valet.Core.Storage;
using Valet.Server.Hosting;
using Valet.Server.Security;

namespace Valet.Server.Items;

/// <summary>
/// Job management as Jenkins clients do it (remote-api.md §7): `createItem` with a config.xml body or as a
/// copy, `config.xml`, `doDelete`, `enable`, `disable` and `description`, each one route with its permission.
/// </summary>
public static partial class ConfigXmlEndpoints
{
    const int MaxWarnings = 20;
    static readonly string[] ReadMethods = ["GET", "HEAD"];

    public static void MapConfigXml(this IEndpointRouteBuilder app)
    {
        app.MapPost("/createItem", CreateAtRootAsync);
        var item = app.MapItemGroup();
        item.MapPost("/createItem", CreateInFolderAsync).RequireItem(Permission.JobCreate);
        item.MapMethods("/config.xml", ReadMethods, GetAsync).RequireItem(Permission.JobConfigure);
        item.MapPost("/config.xml", PostAsync).RequireItem(Permission.JobConfigure);
        item.MapMethodNotAllowed("/config.xml", "GET, POST");
        item.MapPost("/doDelete", DoDeleteAsync).RequireItem(Permission.JobDelete);
        item.MapPost("/enable", EnableAsync).RequireItem(Permission.JobConfigure).RequireJob();
        item.MapPost("/disable", DisableAsync).RequireItem(Permission.JobConfigure).RequireJob();
        item.MapMethods("/description", ReadMethods, GetDescription);
        item.MapPost("/description", PostDescriptionAsync).RequireItem(Permission.JobConfigure);
    }

    static Task<IResult> CreateAtRootAsync(HttpContext context, ItemXml xml, ItemAccess access, ILoggerFactory loggers, CancellationToken ct) =>
        access.Has(context, Permission.JobCreate, [])
            ? CreateAsync(context, null, xml, access, loggers, ct)
            : Task.FromResult(Refusals.Forbidden(Permission.JobCreate));

    static Task<IResult> CreateInFolderAsync(HttpContext context, ItemContext folder, ItemXml xml, ItemAccess access, ILoggerFactory loggers, CancellationToken ct) =>
        folder.Item.IsFolder ? CreateAsync(context, folder.Item, xml, access, loggers, ct) : Task.FromResult(Refusals.NotFound());

    static async Task<IResult> CreateAsync(HttpContext context, Item? parent, ItemXml xml, ItemAccess access, ILoggerFactory loggers, CancellationToken ct)
    {
        var query = context.Request.Query;
        var name = query["name"].FirstOrDefault() ?? "";
        if (ItemName.Problem(name) is { } problem)
            return Http.Error(400, "bad-name", $"'{name}': {problem}");
        var fullName = parent is null ? name : $"{parent.FullName}/{name}";
        var mode = query["mode"].FirstOrDefault();
        if (mode == "copy")
        {
            var from = query["from"].FirstOrDefault() ?? "";
            // Jenkins reads `from` relative to the folder the copy goes into, or from the root when it starts with '/'.
            var sourceName = from.StartsWith('/') || parent is null ? from.TrimStart('/') : $"{parent.FullName}/{from}";
            var segments = sourceName.Split('/');
            if (segments.Any(s => ItemName.Problem(s) is not null))
                return Http.Error(400, "bad-copy-source", $"'{from}' names no item to copy");
            var source = await access.ResolveAsync(context, segments, Permission.JobConfigure, ct);
            if (source.Outcome == AccessOutcome.NotFound)
                return Http.Error(400, "bad-copy-source", $"'{from}' names no item to copy");
            if (source.Refusal is not null)
                return source.Refusal;
            var copied = await xml.CopyAsync(source.Item!, fullName, ct);
            return copied.Outcome == ItemXml.Outcome.Created
                ? TypedResults.Redirect(Http.BaseUrl(context) + copied.Item!.UrlPath)
                : Http.Error(400, "bad-config", copied.Problem!);
        }
        if (!string.IsNullOrEmpty(mode))
            return Http.Error(400, "bad-mode", $"mode '{mode}' is not supported (copy, or none with a config.xml body)");
        if (await ReadBodyAsync(context, ct) is not { } body)
            return BodyLimitMiddleware.TooLarge();
        var saved = await xml.SaveAsync(fullName, body, create: true, ct);
        return Answer(context, saved, loggers, Http.Empty(200));
    }

    static async Task<string?> ReadBodyAsync(HttpContext context, CancellationToken ct)
    {
        if (context.Request.ContentLength > BodyLimitMiddleware.Limit)
            return null;
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        // Past the limit the body itself refuses to be read (BodyLimitMiddleware).
        return await reader.ReadToEndAsync(ct);
    }

    static IResult Answer(HttpContext context, ItemXml.Saved saved, ILoggerFactory loggers, IResult success)
    {
        switch (saved.Outcome)
        {
            case ItemXml.Outcome.Created or ItemXml.Outcome.Updated:
                var logger = loggers.CreateLogger("Valet.Items.ConfigXml");
                foreach (var path in saved.Kept)
                    Log.Kept(logger, saved.Item!.FullName, path);
                foreach (var path in saved.Kept.Take(MaxWarnings))
                    context.Response.Headers.Append("X-Valet-Warning", $"{path} kept, not used");
                return success;
            case ItemXml.Outcome.ParentMissing:
                return Refusals.NotFound("The parent folder does not exist");
            default:
                return Http.Error(400, saved.Outcome == ItemXml.Outcome.NameTaken ? "name-taken" : "bad-config", saved.Problem!);
        }
    }

    static async Task<IResult> GetAsync(ItemContext item, ItemXml xml, CancellationToken ct) =>
        TypedResults.Text(await xml.ReadAsync(item.Item, ct), "application/xml;charset=UTF-8", Encoding.UTF8);

    static async Task<IResult> PostAsync(HttpContext context, ItemContext item, ItemXml xml, ILoggerFactory loggers, CancellationToken ct)
    {
        if (item.Item.ManagedBy is not null)
            return ItemConfigEndpoints.ManagedByFile(item.Item);
        if (await ReadBodyAsync(context, ct) is not { } body)
            return BodyLimitMiddleware.TooLarge();
        var saved = await xml.SaveAsync(item.Item.FullName, body, create: false, ct);
        return Answer(context, saved, loggers, Http.Empty(200));
    }

    static async Task<IResult> DoDeleteAsync(HttpContext context, ItemContext item, Database db, ItemStore items, BuildQueue queue, BuildDispatcher dispatcher, ValetHome home, TimeProvider time, CancellationToken ct)
    {
        var parent = item.Path.Count > 1 ? item.Path[^2].UrlPath : "";
        var result = await ItemConfigEndpoints.DeleteAsync(context, item, db, items, queue, dispatcher, home, time, ct);
        return await items.GetAsync(item.Item.Id, ct) is null ? TypedResults.Redirect(Http.BaseUrl(context) + parent) : result;
    }

    static Task<IResult> EnableAsync(HttpContext context, ItemContext item, Database db, ItemStore items, BuildQueue queue, TimeProvider time, CancellationToken ct) =>
        SetDisabledAsync(context, item, false, db, items, queue, time, ct);

    static Task<IResult> DisableAsync(HttpContext context, ItemContext item, Database db, ItemStore items, BuildQueue queue, TimeProvider time, CancellationToken ct) =>
        SetDisabledAsync(context, item, true, db, items, queue, time, ct);

    /// <summary>Disabling also cancels the job's queued items, as Jenkins does.</summary>
    static async Task<IResult> SetDisabledAsync(HttpContext context, ItemContext item, bool disabled, Database db, ItemStore items, BuildQueue queue, TimeProvider time, CancellationToken ct)
    {
        if (item.Item.ManagedBy is not null)
            return ItemConfigEndpoints.ManagedByFile(item.Item);
        await db.WriteAsync(async s =>
        {
            var current = await items.GetAsync(s, item.Item.Id);
            if (current?.Job is not { } job)
                return;
            await items.SaveAsync(s, current.FullName, job with { Disabled = disabled }, null, createParents: false);
            if (disabled)
                await queue.CancelAllAsync(s, current.Id, time.GetUtcNow().ToUnixTimeMilliseconds());
        }, ct);
        return TypedResults.Redirect(Http.BaseUrl(context) + item.Item.UrlPath);
    }

    static IResult GetDescription(ItemContext item) =>
        TypedResults.Text(item.Item.Definition.Description, "text/plain;charset=UTF-8", Encoding.UTF8);

    static async Task<IResult> PostDescriptionAsync(HttpContext context, ItemContext item, Database db, ItemStore items, CancellationToken ct)
    {
        if (item.Item.ManagedBy is not null)
            return ItemConfigEndpoints.ManagedByFile(item.Item);
        var (inputs, problem) = await RequestInputs.ReadAsync(context, ct);
        if (problem != RequestInputs.Problem.None)
            return problem == RequestInputs.Problem.TooLarge
                ? BodyLimitMiddleware.TooLarge()
                : Http.Error(400, "bad-body", "The request body could not be read");
        var description = inputs.First("description") ?? "";
        await db.WriteAsync(async s =>
        {
            if (await items.GetAsync(s, item.Item.Id) is { } current)
                await items.SaveAsync(s, current.FullName, current.Definition with { Description = description }, null, createParents: false);
        }, ct);
        return Http.Empty(204);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "config.xml of {Item}: {Path} kept, not used")]
        public static partial void Kept(ILogger logger, string item, string path);
    }
}
