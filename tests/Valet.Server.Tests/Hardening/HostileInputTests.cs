using System.Net;
using Valet.Server.Tests.Support;
using Valet.Server.Tests.Triggers;
using Xunit;

namespace Valet.Server.Tests.Hardening;

/// <summary>limits.md §1: no input turns an answer into a 500; header text is printable ASCII.</summary>
public sealed class HostileInputTests
{
    const string Config = """
        server:
          quietPeriod: 60
        security:
          permissions:
            admin: [Overall/Administer]
            anonymous: []
        jobs:
          - name: p
            authToken: secret
          - name: "ärger"
            disabled: true
            authToken: secret
        """;

    [Theory]
    [InlineData("buildByToken/build?job=p&token=secret&delay=%0A", "bad-delay")]
    [InlineData("buildByToken/build?job=p&token=secret&delay=%C3%A4%0D%0Ax", "bad-delay")]
    [InlineData("buildByToken/build?job=%C3%A4rger&token=secret", "disabled")]
    [InlineData("buildByToken/build?job=p%0A%C3%A4&token=wrong", "no-such-job")]
    public async Task Control_and_non_ascii_text_reach_headers_percent_encoded_and_never_as_a_500(string path, string reason)
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var response = await valet.Anonymous().PostAsync(path, null);
        Assert.Equal(reason == "no-such-job" ? HttpStatusCode.NotFound : HttpStatusCode.BadRequest, response.StatusCode);
        var error = response.Headers.GetValues("X-Error").Single();
        Assert.StartsWith(reason + ":", error);
        Assert.All(error, c => Assert.InRange(c, ' ', '~'));
        if (reason == "disabled")
            Assert.Contains("%C3%A4rger", error);
        Assert.Empty(await valet.QueueItemsAsync());
        Assert.DoesNotContain("Exception", valet.Output);
    }

    [Fact]
    public async Task A_disabled_job_with_a_non_ascii_name_on_the_core_url_answers_409_with_an_ascii_header()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        using var response = await valet.Admin().PostAsync("job/%C3%A4rger/build", null);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("%C3%A4rger", response.Headers.GetValues("X-Error").Single());
        Assert.DoesNotContain("Exception", valet.Output);
    }

    [Fact]
    public async Task A_cause_over_1024_characters_answers_400_cause_too_long_on_token_and_core_urls_and_queues_nothing()
    {
        await using var valet = await ValetProcess.StartAsync(Config);
        var longCause = new string('c', 1025);
        using var token = await valet.Anonymous().PostAsync("buildByToken/build?job=p&token=secret&cause=" + longCause, null);
        token.AssertStatus(HttpStatusCode.BadRequest, "cause-too-long");
        using var core = await valet.Admin().PostAsync("job/p/build?cause=" + longCause, null);
        core.AssertStatus(HttpStatusCode.BadRequest, "cause-too-long");
        // After bad-delay (step 2 before 2c), before anything about the job.
        using var both = await valet.Anonymous().PostAsync("buildByToken/build?job=nope&token=x&delay=x&cause=" + longCause, null);
        both.AssertStatus(HttpStatusCode.BadRequest, "bad-delay");
        using var unknown = await valet.Anonymous().PostAsync("buildByToken/build?job=nope&token=x&cause=" + longCause, null);
        unknown.AssertStatus(HttpStatusCode.BadRequest, "cause-too-long");
        Assert.Empty(await valet.QueueItemsAsync());
        using var fits = await valet.Anonymous().PostAsync("buildByToken/build?job=p&token=secret&cause=" + longCause[..1024], null);
        fits.AssertStatus(HttpStatusCode.Created);
    }
}
