using System.Text.RegularExpressions;
using Valet.Core.Security;
using Xunit;

namespace Valet.Core.Tests.Security;

public sealed class InstallationSecretsTests : IDisposable
{
    readonly ValetHome home = new(Path.Combine(Path.GetTempPath(), "valet-secrets-" + Guid.NewGuid().ToString("N")));
    string KeyFile => Path.Combine(home.Secrets, "installation.key");

    public void Dispose()
    {
        if (Directory.Exists(home.Root))
            Directory.Delete(home.Root, recursive: true);
    }

    [Fact]
    public void The_key_file_is_created_readable_by_the_owner_only()
    {
        _ = InstallationSecrets.CreateOrOpen(home);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(home.Secrets));
        Assert.Equal(32, new FileInfo(KeyFile).Length);
        Assert.Equal([KeyFile], Directory.GetFiles(home.Secrets));
    }

    [Fact]
    public void The_key_file_is_reused_so_hashes_and_sealed_values_survive_a_restart()
    {
        var first = InstallationSecrets.CreateOrOpen(home);
        var key = File.ReadAllBytes(KeyFile);
        var sealedText = first.Encrypt("hunter2");
        var second = InstallationSecrets.CreateOrOpen(home);
        Assert.Equal(key, File.ReadAllBytes(KeyFile));
        Assert.Equal(first.Hmac("secret"), second.Hmac("secret"));
        Assert.Equal("hunter2", second.Decrypt(sealedText));
    }

    [Fact]
    public void Reading_the_keys_without_a_key_file_fails_and_makes_no_key()
    {
        Assert.Throws<InvalidOperationException>(() => new InstallationSecrets(home));
        Assert.False(File.Exists(KeyFile));
        Assert.False(InstallationSecrets.KeyExists(home));
    }

    [Fact]
    public void The_check_value_is_stable_differs_between_keys_and_is_not_the_key()
    {
        var other = new ValetHome(home.Root + "-other");
        try
        {
            var check = InstallationSecrets.CreateOrOpen(home).CheckValue;
            var key = Convert.ToHexStringLower(File.ReadAllBytes(KeyFile));
            Assert.Matches("^[0-9a-f]{64}$", check);
            Assert.Equal(check, new InstallationSecrets(home).CheckValue);
            Assert.NotEqual(key, check);
            Assert.NotEqual(check, InstallationSecrets.CreateOrOpen(other).CheckValue);
        }
        finally
        {
            Directory.Delete(other.Root, recursive: true);
        }
    }

    [Fact]
    public void Another_installation_has_other_hashes()
    {
        var other = new ValetHome(home.Root + "-other");
        try
        {
            Assert.NotEqual(InstallationSecrets.CreateOrOpen(home).Hmac("secret"), InstallationSecrets.CreateOrOpen(other).Hmac("secret"));
        }
        finally
        {
            Directory.Delete(other.Root, recursive: true);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("hunter2")]
    [InlineData("pässwörd 😀 with spaces\nand lines")]
    public void Encrypted_values_decrypt_to_the_original_and_do_not_contain_it(string plain)
    {
        var secrets = InstallationSecrets.CreateOrOpen(home);
        var sealedText = secrets.Encrypt(plain);
        Assert.Equal(plain, secrets.Decrypt(sealedText));
        if (plain.Length > 0)
            Assert.DoesNotContain(plain, sealedText, StringComparison.Ordinal);
    }

    [Fact]
    public void Encrypting_twice_gives_different_texts()
    {
        var secrets = InstallationSecrets.CreateOrOpen(home);
        Assert.NotEqual(secrets.Encrypt("hunter2"), secrets.Encrypt("hunter2"));
    }

    [Fact]
    public void A_tampered_value_does_not_decrypt()
    {
        var secrets = InstallationSecrets.CreateOrOpen(home);
        var bytes = Convert.FromBase64String(secrets.Encrypt("hunter2"));
        bytes[^1] ^= 1;
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => secrets.Decrypt(Convert.ToBase64String(bytes)));
    }

    [Fact]
    public void The_hmac_is_stable_keyed_and_distinguishes_values()
    {
        var secrets = InstallationSecrets.CreateOrOpen(home);
        Assert.Equal(secrets.Hmac("secret"), secrets.Hmac("secret"));
        Assert.Equal(32, secrets.Hmac("secret").Length);
        Assert.NotEqual(secrets.Hmac("secret"), secrets.Hmac("SECRET"));
        Assert.NotEqual(System.Security.Cryptography.SHA256.HashData("secret"u8), secrets.Hmac("secret"));
        Assert.Matches("^[0-9a-f]{64}$", secrets.HmacHex("secret"));
        Assert.Equal(Convert.ToHexStringLower(secrets.Hmac("secret")), secrets.HmacHex("secret"));
    }

    [Fact]
    public void New_tokens_are_the_prefix_and_32_alphanumerics_never_repeated()
    {
        var tokens = Enumerable.Range(0, 200).Select(_ => InstallationSecrets.NewToken()).ToList();
        Assert.All(tokens, t => Assert.Matches(new Regex("^vlt_[A-Za-z0-9]{32}$"), t));
        Assert.Equal(tokens.Count, tokens.Distinct(StringComparer.Ordinal).Count());
        var used = tokens.SelectMany(t => t[4..]).ToHashSet();
        Assert.True(used.Count > 55, $"{used.Count} distinct characters: the whole alphabet is drawn from");
    }
}
