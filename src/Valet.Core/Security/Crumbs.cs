using System.Security.Cryptography;
using System.Text;

namespace Valet.Core.Security;

/// <summary>
/// CSRF crumbs (remote-api.md §6.4): hex HMAC-SHA256 under the installation key of
/// `&lt;user id or anonymous&gt;;&lt;session&gt;`, where the session is the browser's `valet_session` cookie.
/// </summary>
public sealed class Crumbs(InstallationSecrets secrets)
{
    public const string Field = "Jenkins-Crumb";
    public const string SessionCookie = "valet_session";

    public string For(Caller caller, string session) => secrets.HmacHex($"{caller.UserId ?? Authorizer.AnonymousPrincipal};{session}");

    public bool IsValid(Caller caller, string? session, string? crumb)
    {
        if (string.IsNullOrEmpty(session) || string.IsNullOrEmpty(crumb))
            return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(For(caller, session)), Encoding.UTF8.GetBytes(crumb.Trim().ToLowerInvariant()));
    }

    /// <summary>A fresh session value: 128 random bits, hex.</summary>
    public static string NewSession() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
