using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Items;

public sealed class ItemNameLimitTests
{
    [Theory]
    [InlineData(64, true)]
    [InlineData(65, false)]
    public void A_full_name_holds_at_most_64_segments_not_counting_empty_ones(int segments, bool within)
    {
        Assert.Equal(within, ItemName.WithinLimits("//" + string.Join("//", Enumerable.Repeat("a", segments)) + "/"));
    }

    [Fact]
    public void A_full_name_holds_at_most_4096_characters()
    {
        Assert.True(ItemName.WithinLimits(new string('a', 4096)));
        Assert.False(ItemName.WithinLimits(new string('a', 4097)));
    }
}
