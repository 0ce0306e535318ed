using Valet.Core.Configuration;
using Valet.Core.Items;

namespace Valet.Core.Security;

/// <summary>Who is asking: a user (signed in, by password or API token) or anonymous.</summary>
public sealed record Caller(string? UserId, string FullName, bool ByApiToken = false)
{
    public static readonly Caller Anonymous = new(null, "anonymous");
    public bool IsAnonymous => UserId is null;
    public string Name => UserId ?? "anonymous";
}

public enum AccessOutcome { Granted, NotFound, Forbidden }

/// <summary>
/// The authorization matrix: global grants from the config file (or the default), plus folder and job
/// grants that add to them for that item and everything below it.
/// </summary>
public sealed class Authorizer
{
    public const string Authenticated = "authenticated";
    public const string AnonymousPrincipal = "anonymous";

    readonly IReadOnlyDictionary<string, IReadOnlyList<string>> global;

    public Authorizer(SecuritySettings settings) => global = settings.Permissions ?? Default;

    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Default = new Dictionary<string, IReadOnlyList<string>>
    {
        [UserStore.AdminId] = [Permission.Administer.Name],
        [Authenticated] = [Permission.Read.Name, Permission.JobRead.Name, Permission.JobBuild.Name, Permission.JobCancel.Name],
        [AnonymousPrincipal] = [],
    };

    /// <summary>Whether <paramref name="caller"/> holds <paramref name="permission"/> on the last item of <paramref name="path"/> (or globally).</summary>
    public bool Has(Caller caller, Permission permission, IReadOnlyList<Item>? path = null)
    {
        if (Grants(caller, global).Contains(permission))
            return true;
        foreach (var item in path ?? [])
        {
            if (Grants(caller, item.Definition.Permissions).Contains(permission))
                return true;
        }
        return false;
    }

    static HashSet<Permission> Grants(Caller caller, IReadOnlyDictionary<string, IReadOnlyList<string>> matrix)
    {
        var granted = new HashSet<Permission>();
        foreach (var (principal, names) in matrix)
        {
            var applies = principal == AnonymousPrincipal
                || !caller.IsAnonymous && (principal == Authenticated || string.Equals(principal, caller.UserId, StringComparison.OrdinalIgnoreCase));
            if (!applies)
                continue;
            foreach (var name in names)
            {
                if (Permission.FromName(name) is { } p)
                    granted.UnionWith(p.Implied());
            }
        }
        return granted;
    }

    /// <summary>
    /// The 404-versus-403 rule for a path of items (outermost first, as far as they exist): each item
    /// must be readable; one the caller can only discover is 403, one it cannot discover is 404 exactly
    /// like a missing one. <paramref name="complete"/> says whether the whole path was found.
    /// </summary>
    public AccessOutcome Check(Caller caller, IReadOnlyList<Item> path, bool complete, out Permission? missing)
    {
        missing = null;
        for (var i = 0; i < path.Count; i++)
        {
            var upTo = path.Take(i + 1).ToList();
            if (Has(caller, Permission.JobRead, upTo))
                continue;
            if (Has(caller, Permission.JobDiscover, upTo))
            {
                missing = Permission.JobRead;
                return AccessOutcome.Forbidden;
            }
            return AccessOutcome.NotFound;
        }
        return complete ? AccessOutcome.Granted : AccessOutcome.NotFound;
    }
}
