using Valet.Core.Configuration;
using Valet.Core.Items;
using Valet.Core.Security;
using Xunit;

namespace Valet.Core.Tests.Security;

public sealed class AuthorizerTests
{
    static readonly Caller Admin = new("admin", "Administrator");
    static readonly Caller Alice = new("alice", "Alice");
    static readonly Caller Bob = new("bob", "Bob");

    static readonly Authorizer Default = new(new SecuritySettings());

    static Authorizer With(Dictionary<string, IReadOnlyList<string>> permissions) => new(new SecuritySettings { Permissions = permissions });

    static Item Folder(string fullName, Dictionary<string, IReadOnlyList<string>>? grants = null) =>
        new(fullName.Length, null, fullName.Split('/')[^1], fullName, new Folder { Permissions = grants ?? new Dictionary<string, IReadOnlyList<string>>() }, null, 1);

    static Item Job(string fullName, Dictionary<string, IReadOnlyList<string>>? grants = null) =>
        new(100 + fullName.Length, null, fullName.Split('/')[^1], fullName, new FreestyleJob { Permissions = grants ?? new Dictionary<string, IReadOnlyList<string>>() }, null, 1);

    [Fact]
    public void By_default_the_admin_holds_every_permission()
    {
        foreach (var p in Permission.All)
            Assert.True(Default.Has(Admin, p), p.Name);
    }

    [Fact]
    public void By_default_the_admin_id_is_matched_ignoring_case() =>
        Assert.True(Default.Has(new Caller("ADMIN", "Administrator"), Permission.Administer));

    [Fact]
    public void By_default_signed_in_users_read_discover_build_and_cancel_only()
    {
        var held = Permission.All.Where(p => Default.Has(Alice, p)).ToList();
        Assert.Equal([Permission.Read, Permission.JobDiscover, Permission.JobRead, Permission.JobBuild, Permission.JobCancel], held);
    }

    [Fact]
    public void By_default_anonymous_holds_nothing()
    {
        foreach (var p in Permission.All)
            Assert.False(Default.Has(Caller.Anonymous, p), p.Name);
    }

    public static TheoryData<string, string[]> Implications => new()
    {
        { "Overall/Administer", Permission.All.Select(p => p.Name).ToArray() },
        { "Job/Read", ["Job/Read", "Job/Discover"] },
        { "Job/Build", ["Job/Build", "Job/Cancel"] },
        { "Overall/Read", ["Overall/Read"] },
        { "Job/Discover", ["Job/Discover"] },
        { "Job/Cancel", ["Job/Cancel"] },
        { "Job/Configure", ["Job/Configure"] },
        { "Job/Create", ["Job/Create"] },
        { "Job/Delete", ["Job/Delete"] },
        { "Job/Workspace", ["Job/Workspace"] },
    };

    [Theory]
    [MemberData(nameof(Implications))]
    public void A_grant_gives_itself_and_only_what_it_implies(string granted, string[] expected)
    {
        var authorizer = With(new() { ["bob"] = [granted] });
        var held = Permission.All.Where(p => authorizer.Has(Bob, p)).Select(p => p.Name).Order(StringComparer.Ordinal);
        Assert.Equal(expected.Order(StringComparer.Ordinal), held);
    }

    [Fact]
    public void Unknown_permission_names_grant_nothing()
    {
        var authorizer = With(new() { ["bob"] = ["Job/Everything", "job/read"] });
        Assert.DoesNotContain(Permission.All, p => authorizer.Has(Bob, p));
    }

    [Fact]
    public void Grants_to_anonymous_apply_to_everyone_and_grants_to_authenticated_only_to_signed_in_users()
    {
        var authorizer = With(new() { ["anonymous"] = ["Overall/Read"], ["authenticated"] = ["Job/Read"] });
        Assert.True(authorizer.Has(Caller.Anonymous, Permission.Read));
        Assert.False(authorizer.Has(Caller.Anonymous, Permission.JobRead));
        Assert.True(authorizer.Has(Alice, Permission.Read));
        Assert.True(authorizer.Has(Alice, Permission.JobRead));
    }

    [Fact]
    public void A_configured_matrix_replaces_the_default()
    {
        var authorizer = With(new() { ["bob"] = ["Overall/Administer"] });
        Assert.False(authorizer.Has(Admin, Permission.Read));
        Assert.False(authorizer.Has(Alice, Permission.Read));
        Assert.True(authorizer.Has(Bob, Permission.Administer));
    }

    [Fact]
    public void Folder_grants_are_inherited_by_everything_below_and_nothing_beside()
    {
        var team = Folder("team", new() { ["bob"] = ["Job/Read", "Job/Build"] });
        var app = Folder("team/app");
        var deploy = Job("team/app/deploy");
        var other = Job("other");
        var authorizer = With(new() { ["authenticated"] = ["Overall/Read"] });

        Assert.True(authorizer.Has(Bob, Permission.JobBuild, [team, app, deploy]));
        Assert.True(authorizer.Has(Bob, Permission.JobCancel, [team, app, deploy]));
        Assert.True(authorizer.Has(Bob, Permission.JobDiscover, [team]));
        Assert.False(authorizer.Has(Bob, Permission.JobConfigure, [team, app, deploy]));
        Assert.False(authorizer.Has(Bob, Permission.JobRead, [other]));
        Assert.False(authorizer.Has(Bob, Permission.JobRead));
        Assert.False(authorizer.Has(Alice, Permission.JobRead, [team, app, deploy]));
    }

    [Fact]
    public void Job_grants_do_not_reach_up_to_the_folder()
    {
        var team = Folder("team");
        var deploy = Job("team/deploy", new() { ["bob"] = ["Job/Read"] });
        var authorizer = With(new() { ["authenticated"] = ["Overall/Read"] });
        Assert.True(authorizer.Has(Bob, Permission.JobRead, [team, deploy]));
        Assert.False(authorizer.Has(Bob, Permission.JobRead, [team]));
    }

    [Fact]
    public void Check_grants_a_complete_readable_path()
    {
        var path = new[] { Folder("team"), Job("team/p") };
        Assert.Equal(AccessOutcome.Granted, Default.Check(Alice, path, complete: true, out var missing));
        Assert.Null(missing);
    }

    [Fact]
    public void Check_answers_not_found_for_an_incomplete_readable_path()
    {
        Assert.Equal(AccessOutcome.NotFound, Default.Check(Alice, [Folder("team")], complete: false, out var missing));
        Assert.Null(missing);
        Assert.Equal(AccessOutcome.NotFound, Default.Check(Alice, [], complete: false, out _));
    }

    [Fact]
    public void Check_answers_not_found_when_the_caller_cannot_even_discover_an_item()
    {
        var path = new[] { Folder("team"), Job("team/p") };
        Assert.Equal(AccessOutcome.NotFound, Default.Check(Caller.Anonymous, path, complete: true, out var missing));
        Assert.Null(missing);
    }

    [Fact]
    public void Check_answers_forbidden_when_the_caller_can_only_discover_an_item()
    {
        var authorizer = With(new() { ["authenticated"] = ["Overall/Read"] });
        var path = new[] { Folder("team", new() { ["bob"] = ["Job/Read"] }), Job("team/p", new() { ["alice"] = ["Job/Discover"] }) };
        Assert.Equal(AccessOutcome.Granted, authorizer.Check(Bob, path, complete: true, out _));
        Assert.Equal(AccessOutcome.NotFound, authorizer.Check(Alice, path, complete: true, out _));

        var discoverable = new[] { Folder("team", new() { ["alice"] = ["Job/Discover"] }), Job("team/p") };
        Assert.Equal(AccessOutcome.Forbidden, authorizer.Check(Alice, discoverable, complete: true, out var missing));
        Assert.Equal(Permission.JobRead, missing);
    }

    [Fact]
    public void Check_stops_at_the_first_item_the_caller_cannot_read()
    {
        var authorizer = With(new() { ["authenticated"] = ["Overall/Read"] });
        var path = new[] { Folder("team"), Job("team/p", new() { ["alice"] = ["Job/Read"] }) };
        Assert.Equal(AccessOutcome.NotFound, authorizer.Check(Alice, path, complete: true, out _));
    }
}
