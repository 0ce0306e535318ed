using Valet.Core.Execution;
using Valet.Core.Items;

namespace Valet.Core.Scm;

/// <summary>
/// A git URL may carry a password in its userinfo (`https://user:secret@host/repo.git`). git gets the
/// URL without it and the password from a credential helper (<see cref="GitClient"/>); everything Valet
/// writes (consoles, polling logs, the API, log lines) shows the URL with the password as ****, and
/// masks the password wherever git or a step prints it.
/// </summary>
public static class GitUrl
{
    /// <summary>Where the password sits in <paramref name="url"/>, or null when its userinfo has none.</summary>
    static (int Start, int Length)? PasswordAt(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0)
            return null;
        var authority = scheme + 3;
        var end = url.IndexOfAny(['/', '?', '#'], authority);
        if (end < 0)
            end = url.Length;
        // The last '@' of the authority ends the userinfo: an unencoded '@' in a password stays inside it.
        var at = end > authority ? url.LastIndexOf('@', end - 1, end - authority) : -1;
        if (at < 0)
            return null;
        var colon = url.IndexOf(':', authority, at - authority);
        return colon < 0 || colon + 1 == at ? null : (colon + 1, at - colon - 1);
    }

    /// <summary>The URL as Valet shows it: the userinfo password replaced by ****.</summary>
    public static string Masked(string url) =>
        PasswordAt(url) is { } p ? url[..p.Start] + SecretMasker.Mask + url[(p.Start + p.Length)..] : url;

    /// <summary>The URL without its password (`https://user@host/repo.git`): what git is given, so the password stays out of `.git/config`.</summary>
    public static string WithoutPassword(string url) =>
        PasswordAt(url) is { } p ? url[..(p.Start - 1)] + url[(p.Start + p.Length)..] : url;

    /// <summary>The URL's password percent-decoded, as git would send it; null when there is none.</summary>
    public static string? Password(string url) =>
        PasswordAt(url) is { } p ? Decoded(url.Substring(p.Start, p.Length)) : null;

    /// <summary>The password of the URL as written and percent-decoded, for a <see cref="SecretMasker"/>; empty when there is none.</summary>
    public static IReadOnlyList<string> Secrets(string url)
    {
        if (PasswordAt(url) is not { } p)
            return [];
        var written = url.Substring(p.Start, p.Length);
        var decoded = Decoded(written);
        return decoded == written ? [written] : [written, decoded];
    }

    static string Decoded(string written)
    {
        try
        {
            return Uri.UnescapeDataString(written);
        }
        catch (UriFormatException)
        {
            return written;
        }
    }

    /// <summary>
    /// The posted definition, with the stored URL's password where the posted URL is the stored one as
    /// shown (`user:****@…`): a configuration read through the API and written back keeps its password.
    /// </summary>
    public static ItemDefinition KeepPassword(ItemDefinition posted, ItemDefinition? stored) =>
        posted is JobDefinition { Scm: { } scm } job && stored is JobDefinition { Scm: { } before }
            && scm.Url != before.Url && scm.Url == Masked(before.Url)
            ? job with { Scm = scm with { Url = before.Url } }
            : posted;
}
