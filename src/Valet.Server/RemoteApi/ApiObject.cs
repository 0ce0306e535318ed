using System.Collections;

namespace Valet.Server.RemoteApi;

/// <summary>
/// One object of Jenkins' exported-bean model: its <c>_class</c> and its properties in the order
/// Jenkins writes them. <see cref="ApiRenderer"/> decides which of them a request sees.
/// </summary>
public sealed class ApiObject(string @class)
{
    /// <summary>
    /// Visibility of a property written only when <c>tree=</c> names it (job <c>allBuilds</c>):
    /// below the lowest level <c>depth=</c> reaches (1 − 10), so the visibility rule never admits it.
    /// </summary>
    public const int TreeOnly = int.MinValue;

    readonly List<ApiProperty> properties = [];

    public string Class { get; } = @class;

    public IReadOnlyList<ApiProperty> Properties => properties;

    /// <param name="value">null, string, bool, int, long, double, <see cref="ApiObject"/>, or a sequence of those.</param>
    /// <param name="inline">Nested objects stay at this object's level (job <c>property</c>, queue <c>items</c>).</param>
    public ApiObject Add(string name, object? value, int visibility = 1, bool inline = false)
    {
        if (value is not (null or string or bool or int or long or double or ApiObject or IEnumerable))
            throw new ArgumentException($"{value.GetType()} is not an API value", nameof(value));
        properties.Add(new(name, value, visibility, inline));
        return this;
    }
}

public readonly record struct ApiProperty(string Name, object? Value, int Visibility, bool Inline);
