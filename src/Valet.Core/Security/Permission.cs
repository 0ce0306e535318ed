namespace Valet.Core.Security;

/// <summary>A permission as Jenkins names it: the config name (Job/Build) and the id clients see.</summary>
public sealed record Permission(string Name, string Id)
{
    public static readonly Permission Administer = new("Overall/Administer", "hudson.model.Hudson.Administer");
    public static readonly Permission Read = new("Overall/Read", "hudson.model.Hudson.Read");
    public static readonly Permission JobDiscover = new("Job/Discover", "hudson.model.Item.Discover");
    public static readonly Permission JobRead = new("Job/Read", "hudson.model.Item.Read");
    public static readonly Permission JobBuild = new("Job/Build", "hudson.model.Item.Build");
    public static readonly Permission JobCancel = new("Job/Cancel", "hudson.model.Item.Cancel");
    public static readonly Permission JobConfigure = new("Job/Configure", "hudson.model.Item.Configure");
    public static readonly Permission JobCreate = new("Job/Create", "hudson.model.Item.Create");
    public static readonly Permission JobDelete = new("Job/Delete", "hudson.model.Item.Delete");
    public static readonly Permission JobWorkspace = new("Job/Workspace", "hudson.model.Item.Workspace");

    public static readonly IReadOnlyList<Permission> All =
        [Administer, Read, JobDiscover, JobRead, JobBuild, JobCancel, JobConfigure, JobCreate, JobDelete, JobWorkspace];

    public static Permission? FromName(string name) => All.FirstOrDefault(p => p.Name == name);

    /// <summary>The permissions a grant of this one gives: itself and what it implies.</summary>
    public IEnumerable<Permission> Implied() => this switch
    {
        _ when this == Administer => All,
        _ when this == JobRead => [this, JobDiscover],
        _ when this == JobBuild => [this, JobCancel],
        _ => [this],
    };

    public override string ToString() => Name;
}
