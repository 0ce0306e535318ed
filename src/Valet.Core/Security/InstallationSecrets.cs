using System.Security.Cryptography;
using System.Text;

namespace Valet.Core.Security;

/// <summary>
/// The per-installation key under $VALET_HOME/secrets: keys the HMACs under which tokens are stored,
/// the crumbs, and the encryption of password parameter values at rest.
/// </summary>
public sealed class InstallationSecrets
{
    readonly byte[] hmacKey;
    readonly byte[] encryptionKey;

    /// <summary>Reads the key; a missing key is an error, never a reason to make one (see <see cref="CreateOrOpen"/>).</summary>
    public InstallationSecrets(ValetHome home)
    {
        var path = KeyFile(home);
        if (!File.Exists(path))
            throw new InvalidOperationException($"{path} does not exist");
        var master = File.ReadAllBytes(path);
        hmacKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: "valet-hmac"u8.ToArray());
        encryptionKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, master, 32, info: "valet-encryption"u8.ToArray());
        CheckValue = Convert.ToHexStringLower(HMACSHA256.HashData(master, "valet-installation-check"u8));
        hmacs = new(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, hmacKey));
    }

    public static string KeyFile(ValetHome home) => Path.Combine(home.Secrets, "installation.key");

    public static bool KeyExists(ValetHome home) => File.Exists(KeyFile(home));

    /// <summary>
    /// Makes the key when there is none. The server calls this only while the database holds no check
    /// value: a fresh key for a database written under another would make every stored hash a stranger.
    /// </summary>
    public static InstallationSecrets CreateOrOpen(ValetHome home)
    {
        var path = KeyFile(home);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(home.Secrets);
            File.SetUnixFileMode(home.Secrets, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var fresh = RandomNumberGenerator.GetBytes(32);
            var tmp = path + ".tmp";
            using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
                f.Write(fresh);
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(tmp, path);
        }
        return new InstallationSecrets(home);
    }

    /// <summary>
    /// Hex HMAC-SHA256 of a fixed label under the key: the database keeps it to recognise the key that
    /// wrote it, and it tells nothing about the key itself.
    /// </summary>
    public string CheckValue { get; }

    // One keyed hash per thread, reset after each use: the one-shot API sets the key up on every call,
    // which costs more than hashing a token.
    readonly ThreadLocal<IncrementalHash> hmacs;

    public byte[] Hmac(string value)
    {
        var hmac = hmacs.Value!;
        hmac.AppendData(Encoding.UTF8.GetBytes(value));
        return hmac.GetHashAndReset();
    }

    public string HmacHex(string value) => Convert.ToHexStringLower(Hmac(value));

    /// <summary>AES-GCM: base64 of nonce, tag and ciphertext.</summary>
    public string Encrypt(string plain)
    {
        var data = Encoding.UTF8.GetBytes(plain);
        var output = new byte[12 + 16 + data.Length];
        var nonce = output.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(encryptionKey, 16);
        aes.Encrypt(nonce, data, output.AsSpan(28), output.AsSpan(12, 16));
        return Convert.ToBase64String(output);
    }

    public string Decrypt(string sealedText)
    {
        var input = Convert.FromBase64String(sealedText);
        var plain = new byte[input.Length - 28];
        using var aes = new AesGcm(encryptionKey, 16);
        aes.Decrypt(input.AsSpan(0, 12), input.AsSpan(28), input.AsSpan(12, 16), plain);
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>A fresh token: the prefix and 32 characters of [A-Za-z0-9] (about 190 bits).</summary>
    public static string NewToken() =>
        "vlt_" + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32);
}
