using Valet.Core.Security;
using Xunit;

namespace Valet.Core.Tests.Security;

public sealed class PasswordHasherTests
{
    [Fact]
    public void The_right_password_verifies_and_others_do_not()
    {
        var hash = PasswordHasher.Hash("correct horse");
        Assert.True(PasswordHasher.Verify("correct horse", hash));
        Assert.False(PasswordHasher.Verify("correct horse ", hash));
        Assert.False(PasswordHasher.Verify("Correct horse", hash));
        Assert.False(PasswordHasher.Verify("", hash));
    }

    [Fact]
    public void Hashes_are_salted_so_two_hashes_of_one_password_differ()
    {
        var first = PasswordHasher.Hash("pässword");
        var second = PasswordHasher.Hash("pässword");
        Assert.NotEqual(first, second);
        Assert.True(PasswordHasher.Verify("pässword", first));
        Assert.True(PasswordHasher.Verify("pässword", second));
    }

    [Fact]
    public void The_hash_names_its_algorithm_and_iteration_count_and_hides_the_password()
    {
        var hash = PasswordHasher.Hash("hunter2");
        var parts = hash.Split('$');
        Assert.Equal(4, parts.Length);
        Assert.Equal("pbkdf2-sha256", parts[0]);
        Assert.True(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) >= 100_000);
        Assert.DoesNotContain("hunter2", hash, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hunter2")]
    [InlineData("md5$1$abc$def")]
    public void A_stored_value_of_another_form_never_verifies(string stored) => Assert.False(PasswordHasher.Verify("hunter2", stored));
}
