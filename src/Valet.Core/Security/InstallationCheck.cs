using System.Security.Cryptography;
using System.Text;
using Valet.Core.Storage;

namespace Valet.Core.Security;

/// <summary>
/// The database keeps the check value of the installation key that wrote it. A server whose key differs
/// would fail every stored token hash, cookie and sealed value, and would write rows no other server could
/// read, so it refuses to start instead.
/// </summary>
public static class InstallationCheck
{
    const string Select = "SELECT value FROM installation WHERE name = 'check'";

    /// <summary>Null when the keys match the database (making both on a first start); otherwise why not.</summary>
    public static async Task<string?> VerifyAsync(Database db, ValetHome home, CancellationToken ct)
    {
        var stored = await db.ReadAsync(s => s.QueryFirstOrDefaultAsync<string>(Select), ct);
        if (stored is null)
        {
            var value = InstallationSecrets.CreateOrOpen(home).CheckValue;
            // Servers starting at once on one database: the first check value stays, the others compare with it.
            stored = await db.WriteAsync(async s =>
            {
                await s.ExecuteAsync("INSERT INTO installation (name, value) VALUES ('check', @value) ON CONFLICT (name) DO NOTHING", new { value });
                return (await s.QueryFirstOrDefaultAsync<string>(Select))!;
            }, ct);
        }
        if (!InstallationSecrets.KeyExists(home))
            return $"The secrets in {home.Secrets} do not match the database: it was written with an installation key and {InstallationSecrets.KeyFile(home)} does not exist. "
                + "Servers sharing a database must share the secrets directory: restore it (or copy it from a server of this installation).";
        var mine = new InstallationSecrets(home).CheckValue;
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(mine), Encoding.ASCII.GetBytes(stored)))
            return $"The secrets in {home.Secrets} do not match the database: it was written with another installation key. "
                + "Servers sharing a database must share the secrets directory: restore it (or copy it from a server of this installation).";
        return null;
    }
}
