using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Items;

public sealed class ParameterNameTests
{
    [Theory]
    [InlineData("foo")]
    [InlineData("_")]
    [InlineData("_private")]
    [InlineData("Foo_2")]
    [InlineData("JOB")]
    [InlineData("Token")]
    [InlineData("jobs")]
    [InlineData("ids")]
    public void Names_matching_the_pattern_are_valid(string name) => Assert.Null(ParameterName.Problem(name));

    [Theory]
    [InlineData("")]
    [InlineData("1foo")]
    [InlineData("foo-bar")]
    [InlineData("foo bar")]
    [InlineData("foo.bar")]
    [InlineData("größe")]
    [InlineData("foo\n")]
    public void Names_outside_the_pattern_are_refused(string name) => Assert.Contains("[A-Za-z_][A-Za-z0-9_]*", ParameterName.Problem(name));

    [Theory]
    [InlineData("job")]
    [InlineData("token")]
    [InlineData("delay")]
    [InlineData("cause")]
    [InlineData("id")]
    [InlineData("json")]
    public void Trigger_inputs_are_reserved(string name) => Assert.Contains("reserved", ParameterName.Problem(name));
}
