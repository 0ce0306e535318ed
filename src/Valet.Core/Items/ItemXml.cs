using System.Security.Cryptography;
using Valet.Core.Configuration;
using Valet.Core.Scm;
using Valet.Core.Security;
using Valet.Core.Storage;
using Valet.Core.Triggers;

namespace Valet.Core.Items;

/// <summary>
/// Items as config.xml (remote-api.md §7): read through <see cref="XmlConfig"/> and the one validator, stored
/// as definitions, with the posted document kept (secrets sealed) so unused elements round-trip.
/// </summary>
public sealed class ItemXml(Database db, ItemStore items, JobTokens tokens, InstallationSecrets secrets)
{
    public enum Outcome { Created, Updated, BadInput, NameTaken, ParentMissing, ParentNotFolder, KindChanged }

    /// <param name="Kept">Element paths kept but not used, for the warning.</param>
    public sealed record Saved(Outcome Outcome, Item? Item, string? Problem, IReadOnlyList<string> Kept);

    public async Task<string> ReadAsync(Item item, CancellationToken ct)
    {
        var stored = await db.ReadAsync(s => s.QueryFirstOrDefaultAsync<string>("SELECT xml FROM item_xml WHERE item_id = @id", new { id = item.Id }), ct);
        var digest = item.IsJob ? await tokens.DefaultDigestAsync(item.Id, ct) : null;
        return XmlConfig.Write(item.Definition, stored, digest is null ? null : Convert.ToHexStringLower(digest), secrets.Encrypt, TryDecrypt);
    }

    string? TryDecrypt(string sealedText)
    {
        try
        {
            return secrets.Decrypt(sealedText);
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>Creates (<paramref name="create"/>: the name must be free) or replaces the item <paramref name="fullName"/>.</summary>
    public async Task<Saved> SaveAsync(string fullName, string text, bool create, CancellationToken ct)
    {
        var (xml, errors) = XmlConfig.Read("config.xml", text, TryDecrypt);
        if (xml is null)
            return Bad(string.Join("; ", errors));
        var (entry, invalid) = ConfigValidator.ValidateItem(xml.Root, fullName);
        if (entry is null)
            return Bad(string.Join("; ", invalid));
        var kept = xml.Kept.ToList();
        if (entry.Definition is FreestyleJob freestyle && xml.UnknownBuilders.Count > 0)
            entry = entry with { Definition = freestyle with { UnsupportedStep = xml.UnknownBuilders[0] } };
        byte[]? digest = null;
        var token = xml.AuthToken?.Trim();
        if (string.IsNullOrEmpty(token) || entry.Definition is Folder)
        {
        }
        else if (token.StartsWith(XmlConfig.HmacPrefix, StringComparison.Ordinal))
        {
            var hex = token[XmlConfig.HmacPrefix.Length..];
            if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
                return Bad($"config.xml: /{xml.Document.Root!.Name.LocalName}/authToken: {XmlConfig.HmacPrefix} must be followed by 64 hex digits");
            digest = Convert.FromHexString(hex);
        }
        else if (token.StartsWith("{AQAA", StringComparison.Ordinal))
        {
            kept.Add($"/{xml.Document.Root!.Name.LocalName}/authToken (encrypted by Jenkins: no token set)");
        }
        else
        {
            digest = secrets.Hmac(token);
        }
        var stored = XmlConfig.Serialize(XmlConfig.ForStorage(xml.Document, digest is null ? null : Convert.ToHexStringLower(digest), secrets.Encrypt));
        return await db.WriteAsync(async s =>
        {
            var existing = await items.FindAsync(s, fullName);
            if (create && existing is not null)
                return new Saved(Outcome.NameTaken, existing, $"an item named '{existing.FullName}' already exists", kept);
            var definition = existing is null ? entry.Definition : GitUrl.KeepPassword(entry.Definition, existing.Definition) with { Permissions = existing.Definition.Permissions };
            var (outcome, item) = await items.SaveAsync(s, fullName, definition, null, createParents: false);
            if (outcome is not (ItemStore.SaveOutcome.Created or ItemStore.SaveOutcome.Updated))
            {
                return outcome switch
                {
                    ItemStore.SaveOutcome.KindChanged => new Saved(Outcome.KindChanged, item, $"{fullName} is a {(item!.IsFolder ? "folder" : "job")}; an item's type cannot change", kept),
                    ItemStore.SaveOutcome.ParentNotFolder => new Saved(Outcome.ParentNotFolder, null, "the parent is a job, not a folder", kept),
                    _ => new Saved(Outcome.ParentMissing, null, "the parent folder does not exist", kept),
                };
            }
            if (item!.IsJob && digest is null)
                await tokens.SetDefaultAsync(s, item.Id, null);
            else if (item.IsJob)
                await tokens.SetDefaultDigestAsync(s, item.Id, digest!);
            await s.ExecuteAsync("INSERT INTO item_xml (item_id, xml) VALUES (@id, @xml) ON CONFLICT(item_id) DO UPDATE SET xml = excluded.xml", new { id = item.Id, xml = stored });
            return new Saved(outcome == ItemStore.SaveOutcome.Created ? Outcome.Created : Outcome.Updated, item, null, kept);
        }, ct);
    }

    /// <summary>A new item with the source's definition, kept document and `default` token.</summary>
    public async Task<Saved> CopyAsync(Item source, string fullName, CancellationToken ct)
    {
        var digest = source.IsJob ? await tokens.DefaultDigestAsync(source.Id, ct) : null;
        return await db.WriteAsync(async s =>
        {
            if (await items.FindAsync(s, fullName) is { } existing)
                return new Saved(Outcome.NameTaken, existing, $"an item named '{existing.FullName}' already exists", []);
            var (outcome, item) = await items.SaveAsync(s, fullName, source.Definition, null, createParents: false);
            if (outcome != ItemStore.SaveOutcome.Created)
                return new Saved(outcome == ItemStore.SaveOutcome.ParentNotFolder ? Outcome.ParentNotFolder : Outcome.ParentMissing, null, "the parent folder does not exist", []);
            if (digest is not null)
                await tokens.SetDefaultDigestAsync(s, item!.Id, digest);
            await s.ExecuteAsync("INSERT INTO item_xml (item_id, xml) SELECT @id, xml FROM item_xml WHERE item_id = @source", new { id = item!.Id, source = source.Id });
            return new Saved(Outcome.Created, item, null, []);
        }, ct);
    }

    static Saved Bad(string problem) => new(Outcome.BadInput, null, problem, []);
}
