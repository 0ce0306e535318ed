using CsCheck;
using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Items;

/// <summary>Item names from any caller: the rule answers a reason or null, never an exception, and agrees with itself.</summary>
public sealed class ItemNamePropertyTests
{
    static readonly Gen<string> Names = HostileText.From(40, "a", "B", "dir", "/", "//", ".", "..", " ", "-", "_", "»", "%2e", "?", "*", ":", "é");

    [Fact]
    public void A_name_the_rule_accepts_keeps_every_stated_rule() =>
        Names.Sample(name =>
        {
            if (ItemName.Problem(name) is not null)
                return;
            Assert.InRange(name.Length, 1, ItemName.MaxLength);
            Assert.Equal(name.Trim(), name);
            Assert.NotEqual(".", name);
            Assert.NotEqual("..", name);
            Assert.DoesNotContain(name, char.IsControl);
            Assert.DoesNotContain(name, c => "?*/\\%!@#$^&|<>[]:;".Contains(c));
            Assert.Equal(ItemName.Key(name), ItemName.Key(ItemName.Key(name)));
        }, iter: 20_000);

    [Fact]
    public void The_full_name_limit_agrees_with_splitting_and_counting() =>
        Gen.Frequency((3, Names), (1, HostileText.From(200, "a/", "/", "ab/", "a"))).Sample(fullName =>
        {
            var segments = ItemName.Segments(fullName);
            Assert.Equal(fullName.Length <= ItemName.MaxFullNameLength && segments.Length <= ItemName.MaxSegments, ItemName.WithinLimits(fullName));
            Assert.DoesNotContain(segments, s => s.Length == 0 || s.Contains('/'));
        }, iter: 20_000);

    [Fact]
    public void Names_over_the_limits_are_refused_without_being_split() =>
        Gen.Int[ItemName.MaxSegments + 1, 30_000].Sample(count =>
            Assert.False(ItemName.WithinLimits(string.Join('/', Enumerable.Repeat("a", count)))), iter: 200);
}
