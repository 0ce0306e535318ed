using CsCheck;
using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Items;

/// <summary>
/// Parameter binding from any request: its error is a <see cref="BindResult"/> naming the problem,
/// never an exception; a success has one value per definition, in order, within the choices.
/// </summary>
public sealed class ParameterBinderPropertyTests
{
    static readonly ParameterDefinition[] Definitions =
    [
        new() { Type = ParameterType.String, Name = "s", Default = "d", Trim = true },
        new() { Type = ParameterType.Text, Name = "t" },
        new() { Type = ParameterType.Boolean, Name = "b", Default = "true" },
        new() { Type = ParameterType.Choice, Name = "c", Choices = ["x", "y", "ä"] },
        new() { Type = ParameterType.Password, Name = "pw" },
    ];

    static void AssertBound(BindResult result)
    {
        if (!result.Ok)
        {
            Assert.False(string.IsNullOrEmpty(result.Problem));
            return;
        }
        Assert.Equal(Definitions.Select(d => d.Name), result.Values!.Select(v => v.Name));
        Assert.Contains(result.Values![2].Value, (string[])["true", "false"]);
        Assert.Contains(result.Values![3].Value, Definitions[3].Choices);
        Assert.Equal(result.Values![0].Value.Trim(), result.Values![0].Value);
    }

    [Fact]
    public void Any_json_form_binds_or_names_its_problem() =>
        Gen.Frequency(
            (3, HostileText.From(30, "{", "}", "[", "]", ":", ",", "\"parameter\"", "\"name\"", "\"value\"", "\"s\"", "\"c\"", "\"b\"", "\"x\"",
                "\"nope\"", "true", "null", "1", "1e999", "-0", "\"\\ud800\"", "\"\\u0000\"", " ")),
            (1, HostileText.Mutations("""{"parameter":[{"name":"s","value":" v "},{"name":"c","value":"y"},{"name":"b","value":true}]}""")))
            .Sample(json => AssertBound(ParameterBinder.BindJson("job", Definitions, json)), iter: 20_000);

    [Fact]
    public void Any_set_of_sent_values_binds_or_names_the_parameter_at_fault()
    {
        var values = HostileText.From(6, "x", "y", "ä", "true", "TRUE", " ", "");
        var sent = Gen.Select(Gen.OneOf("s", "t", "b", "c", "pw", "S", "other"), values).Array[0, 8];
        sent.Sample(pairs =>
        {
            var result = ParameterBinder.Bind(Definitions, name => [.. pairs.Where(p => p.Item1 == name).Select(p => p.Item2)]);
            AssertBound(result);
            var duplicated = Definitions.FirstOrDefault(d => pairs.Count(p => p.Item1 == d.Name) > 1);
            if (duplicated is not null && result.BadParameter is null)
                Assert.Fail("a parameter sent twice was bound");
        }, iter: 20_000);
    }
}
