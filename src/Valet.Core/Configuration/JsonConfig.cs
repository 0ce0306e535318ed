using System.Text;
using System.Text.Json;

namespace Valet.Core.Configuration;

/// <summary>
/// The JSON adapter (config.json bodies): System.Text.Json's reader into <see cref="ConfigNode"/>s whose
/// paths are JSON pointers (<c>/parameters/1/type</c>) and whose lines are counted in the body.
/// </summary>
public static class JsonConfig
{
    public static ConfigDocument Read(string source, string text)
    {
        // The reader refuses an empty body; like an empty YAML file, it holds nothing.
        if (string.IsNullOrWhiteSpace(text))
            return new(null, []);
        var bytes = Encoding.UTF8.GetBytes(text);
        var lines = new Lines(bytes);
        var reader = new Utf8JsonReader(bytes);
        var errors = new List<ConfigError>();
        try
        {
            reader.Read();
            var root = Node(ref reader, "", source, lines, errors);
            // The reader refuses a second value after the first only when asked for it.
            reader.Read();
            return errors.Count == 0 ? new(root is ConfigScalar { IsNull: true } ? null : root, []) : new(null, errors);
        }
        catch (JsonException e)
        {
            // The reader counts lines from 0 and appends its own position to the message.
            var message = e.Message;
            var position = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            return new(null, [new ConfigError(new SourceLocation(source, (e.LineNumber ?? 0) + 1, ""), position < 0 ? message : message[..position])]);
        }
        catch (InvalidOperationException)
        {
            // The reader accepts an escaped lone surrogate ("\ud800") and only refuses to make a string of it.
            return new(null, [new ConfigError(new SourceLocation(source, lines.At(reader.TokenStartIndex), ""), "a string holds an unpaired surrogate escape")]);
        }
    }

    static ConfigNode Node(ref Utf8JsonReader reader, string path, string source, Lines lines, List<ConfigError> errors)
    {
        var at = new SourceLocation(source, lines.At(reader.TokenStartIndex), path);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var entries = new List<ConfigEntry>();
                var keys = new HashSet<string>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var key = reader.GetString()!;
                    var keyAt = new SourceLocation(source, lines.At(reader.TokenStartIndex), $"{path}/{Escape(key)}");
                    reader.Read();
                    var value = Node(ref reader, keyAt.Path, source, lines, errors);
                    if (keys.Add(key))
                        entries.Add(new ConfigEntry(key, keyAt, value));
                    else
                        errors.Add(new ConfigError(keyAt, $"duplicate key '{key}'"));
                }
                return new ConfigMapping(at, entries);
            case JsonTokenType.StartArray:
                var items = new List<ConfigNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    items.Add(Node(ref reader, $"{path}/{items.Count}", source, lines, errors));
                return new ConfigList(at, items);
            case JsonTokenType.String:
                return new ConfigScalar(at, reader.GetString()!, IsNull: false);
            case JsonTokenType.Null:
                return new ConfigScalar(at, "null", IsNull: true);
            default:
                // Numbers as written, true and false as words: the validator reads text as the YAML file's scalars.
                return new ConfigScalar(at, Encoding.UTF8.GetString(reader.ValueSpan), IsNull: false);
        }
    }

    /// <summary>RFC 6901: '~' and '/' inside a key.</summary>
    static string Escape(string key) => key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    /// <summary>Line numbers (from 1) by byte offset.</summary>
    sealed class Lines(byte[] bytes)
    {
        readonly List<long> starts = Starts(bytes);

        static List<long> Starts(byte[] bytes)
        {
            var starts = new List<long> { 0 };
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == (byte)'\n')
                    starts.Add(i + 1);
            }
            return starts;
        }

        public long At(long offset)
        {
            var i = starts.BinarySearch(offset);
            return i >= 0 ? i + 1 : ~i;
        }
    }
}
