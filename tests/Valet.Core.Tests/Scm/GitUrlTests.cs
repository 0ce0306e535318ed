using Valet.Core.Execution;
using Valet.Core.Items;
using Valet.Core.Scm;
using Xunit;

namespace Valet.Core.Tests.Scm;

public sealed class GitUrlTests
{
    [Theory]
    [InlineData("https://user:s3cret@example.com/repo.git", "https://user:****@example.com/repo.git")]
    [InlineData("http://user:s3cret@127.0.0.1:1/repo.git", "http://user:****@127.0.0.1:1/repo.git")]
    [InlineData("https://user:p%40ss@example.com/repo.git", "https://user:****@example.com/repo.git")]
    [InlineData("https://user:p@ss@example.com/a@b.git", "https://user:****@example.com/a@b.git")]
    [InlineData("https://user@example.com/repo.git", "https://user@example.com/repo.git")]
    [InlineData("https://example.com:8443/repo.git", "https://example.com:8443/repo.git")]
    [InlineData("ssh://git@example.com:22/repo.git", "ssh://git@example.com:22/repo.git")]
    [InlineData("git@example.com:team/repo.git", "git@example.com:team/repo.git")]
    [InlineData("file:///srv/git/repo.git", "file:///srv/git/repo.git")]
    [InlineData("https://user:@example.com/repo.git", "https://user:@example.com/repo.git")]
    public void Only_a_userinfo_password_is_masked(string url, string shown) => Assert.Equal(shown, GitUrl.Masked(url));

    [Theory]
    [InlineData("https://user:s3cret@example.com/repo.git", "https://user@example.com/repo.git", "s3cret")]
    [InlineData("https://user:p%40ss@example.com/repo.git", "https://user@example.com/repo.git", "p@ss")]
    [InlineData("https://user:p@ss@example.com/a@b.git", "https://user@example.com/a@b.git", "p@ss")]
    [InlineData("https://user:100%@example.com/repo.git", "https://user@example.com/repo.git", "100%")]
    [InlineData("https://user@example.com/repo.git", "https://user@example.com/repo.git", null)]
    [InlineData("https://user:@example.com/repo.git", "https://user:@example.com/repo.git", null)]
    [InlineData("git@example.com:team/repo.git", "git@example.com:team/repo.git", null)]
    public void Git_is_given_the_url_without_its_password_and_the_password_decoded(string url, string forGit, string? password)
    {
        Assert.Equal(forGit, GitUrl.WithoutPassword(url));
        Assert.Equal(password, GitUrl.Password(url));
    }

    [Fact]
    public void The_password_is_masked_as_written_and_decoded_wherever_it_is_printed()
    {
        var masker = new SecretMasker(GitUrl.Secrets("https://ci:p%40ss-9x@example.com/repo.git"));

        Assert.Equal("+ git fetch https://ci:****@example.com/repo.git; echo ****",
            masker.Apply("+ git fetch https://ci:p%40ss-9x@example.com/repo.git; echo p@ss-9x"));
        Assert.Empty(GitUrl.Secrets("https://example.com/repo.git"));
    }

    [Theory]
    [InlineData("https://ci:****@example.com/repo.git", "https://ci:s3cret@example.com/repo.git")]
    [InlineData("https://ci:other@example.com/repo.git", "https://ci:other@example.com/repo.git")]
    [InlineData("https://ci:****@example.com/elsewhere.git", "https://ci:****@example.com/elsewhere.git")]
    [InlineData("https://example.com/repo.git", "https://example.com/repo.git")]
    public void A_url_written_back_as_shown_keeps_the_stored_password_and_any_other_url_is_taken_as_written(string posted, string kept)
    {
        var stored = new FreestyleJob { Scm = new GitScm("https://ci:s3cret@example.com/repo.git", "main") };
        var result = GitUrl.KeepPassword(new FreestyleJob { Scm = new GitScm(posted, "main") }, stored);
        Assert.Equal(kept, Assert.IsType<FreestyleJob>(result).Scm!.Url);
    }
}
