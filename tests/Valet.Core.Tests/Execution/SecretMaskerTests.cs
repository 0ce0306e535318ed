using Valet.Core.Execution;
using Xunit;

namespace Valet.Core.Tests.Execution;

public sealed class SecretMaskerTests
{
    [Theory]
    [InlineData("pw=hunter2", "pw=****")]
    [InlineData("hunter2hunter2", "********")]
    [InlineData("HUNTER2", "HUNTER2")]
    [InlineData("nothing here", "nothing here")]
    public void Every_occurrence_of_a_secret_is_masked_case_sensitively(string text, string expected) =>
        Assert.Equal(expected, new SecretMasker(["hunter2"]).Apply(text));

    [Fact]
    public void A_secret_containing_another_is_masked_whole_whatever_the_order_given()
    {
        Assert.Equal("x=****", new SecretMasker(["abc", "abcdef"]).Apply("x=abcdef"));
        Assert.Equal("x=****", new SecretMasker(["abcdef", "abc"]).Apply("x=abcdef"));
    }

    [Fact]
    public void Empty_secrets_are_ignored()
    {
        var masker = new SecretMasker(["", ""]);
        Assert.True(masker.IsEmpty);
        Assert.Equal("plain text", masker.Apply("plain text"));
        Assert.Equal("a **** b", new SecretMasker(["", "s3cret"]).Apply("a s3cret b"));
    }

    [Fact]
    public void A_masker_without_secrets_is_empty() => Assert.True(new SecretMasker([]).IsEmpty);
}
