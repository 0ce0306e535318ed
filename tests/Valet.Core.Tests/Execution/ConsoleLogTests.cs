using System.Text;
using Valet.Core.Execution;
using Xunit;

namespace Valet.Core.Tests.Execution;

public sealed class ConsoleLogTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "valet-console-" + Guid.NewGuid().ToString("N"));
    string Log => Path.Combine(dir, "builds", "1", "log");

    public void Dispose()
    {
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
    }

    static ReadOnlyMemory<byte> Utf8(string s) => Encoding.UTF8.GetBytes(s);

    async Task<string> WriteAsync(IEnumerable<string> secrets, Func<ConsoleWriter, Task> write)
    {
        await using (var writer = new ConsoleWriter(Log, new SecretMasker(secrets)))
            await write(writer);
        return await File.ReadAllTextAsync(Log, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Lines_are_masked_and_ended()
    {
        var text = await WriteAsync(["hunter2"], w => w.WriteLineAsync("Started with pw=hunter2"));
        Assert.Equal("Started with pw=****\n", text);
    }

    [Fact]
    public async Task A_secret_split_over_two_writes_is_still_masked()
    {
        var text = await WriteAsync(["hunter2"], async w =>
        {
            await w.WriteAsync(Utf8("+ echo hun"));
            await w.WriteAsync(Utf8("ter2\nnext hunt"));
            await w.WriteAsync(Utf8("er2 line\n"));
        });
        Assert.Equal("+ echo ****\nnext **** line\n", text);
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_split_byte_by_byte_is_still_masked()
    {
        var text = await WriteAsync(["pässwörd"], async w =>
        {
            foreach (var b in Encoding.UTF8.GetBytes("x pässwörd y\n"))
                await w.WriteAsync(new[] { b });
        });
        Assert.Equal("x **** y\n", text);
    }

    [Fact]
    public async Task A_partial_last_line_is_masked_and_ended_by_end_of_output()
    {
        var text = await WriteAsync(["hunter2"], async w =>
        {
            await w.WriteAsync(Utf8("no newline hunter2"));
            await w.EndOutputAsync();
            await w.WriteLineAsync("Finished: SUCCESS");
        });
        Assert.Equal("no newline ****\nFinished: SUCCESS\n", text);
    }

    [Theory]
    [InlineData("no newline")]
    [InlineData("ends in Ċ")]
    [InlineData("ends in 日本")]
    public async Task End_of_output_ends_a_partial_line_with_or_without_secrets(string partial)
    {
        foreach (var secrets in new[] { Array.Empty<string>(), ["hunter2"] })
        {
            if (File.Exists(Log))
                File.Delete(Log);
            var text = await WriteAsync(secrets, async w =>
            {
                await w.WriteAsync(Utf8(partial));
                await w.EndOutputAsync();
                await w.WriteLineAsync("Finished: SUCCESS");
            });
            Assert.Equal(partial + "\nFinished: SUCCESS\n", text);
        }
    }

    [Fact]
    public async Task End_of_output_adds_nothing_after_a_complete_line()
    {
        foreach (var secrets in new[] { Array.Empty<string>(), ["hunter2"] })
        {
            if (File.Exists(Log))
                File.Delete(Log);
            var text = await WriteAsync(secrets, async w =>
            {
                await w.WriteAsync(Utf8("done\n"));
                await w.EndOutputAsync();
                await w.EndOutputAsync();
            });
            Assert.Equal("done\n", text);
        }
    }

    [Fact]
    public async Task Output_without_secrets_is_written_as_it_arrives()
    {
        await using var writer = new ConsoleWriter(Log, new SecretMasker([]));
        await writer.WriteAsync(Utf8("partial"));
        var (bytes, next) = await ConsoleFile.ReadFromAsync(Log, 0, TestContext.Current.CancellationToken);
        Assert.Equal("partial", Encoding.UTF8.GetString(bytes));
        Assert.Equal(7, next);
    }

    [Fact]
    public async Task Reads_continue_from_the_returned_offset()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var writer = new ConsoleWriter(Log, new SecretMasker([]));
        await writer.WriteLineAsync("one");
        var (first, next) = await ConsoleFile.ReadFromAsync(Log, 0, ct);
        await writer.WriteLineAsync("two");
        var (second, last) = await ConsoleFile.ReadFromAsync(Log, next, ct);
        Assert.Equal("one\n", Encoding.UTF8.GetString(first));
        Assert.Equal("two\n", Encoding.UTF8.GetString(second));
        Assert.Equal(8, last);
    }

    public static TheoryData<string, int> CutCharacters => new()
    {
        { "é", 1 },
        { "€", 1 },
        { "€", 2 },
        { "😀", 1 },
        { "😀", 2 },
        { "😀", 3 },
    };

    [Theory]
    [MemberData(nameof(CutCharacters))]
    public async Task A_read_never_ends_inside_a_multi_byte_character(string character, int bytesWritten)
    {
        var ct = TestContext.Current.CancellationToken;
        var encoded = Encoding.UTF8.GetBytes(character);
        Directory.CreateDirectory(Path.GetDirectoryName(Log)!);
        await File.WriteAllBytesAsync(Log, [.. "ab"u8, .. encoded[..bytesWritten]], ct);

        var (bytes, next) = await ConsoleFile.ReadFromAsync(Log, 0, ct);
        Assert.Equal("ab"u8.ToArray(), bytes);
        Assert.Equal(2, next);

        await using (var f = new FileStream(Log, FileMode.Append))
            await f.WriteAsync(encoded.AsMemory(bytesWritten), ct);
        var (rest, end) = await ConsoleFile.ReadFromAsync(Log, next, ct);
        Assert.Equal(character, Encoding.UTF8.GetString(rest));
        Assert.Equal(2 + encoded.Length, end);
    }

    [Theory]
    [InlineData("é")]
    [InlineData("€")]
    [InlineData("😀")]
    public async Task A_read_ending_on_a_whole_multi_byte_character_returns_it(string character)
    {
        var ct = TestContext.Current.CancellationToken;
        var encoded = Encoding.UTF8.GetBytes("x" + character);
        Directory.CreateDirectory(Path.GetDirectoryName(Log)!);
        await File.WriteAllBytesAsync(Log, encoded, ct);
        var (bytes, next) = await ConsoleFile.ReadFromAsync(Log, 0, ct);
        Assert.Equal(encoded, bytes);
        Assert.Equal(encoded.Length, next);
    }

    [Fact]
    public async Task A_lone_partial_character_reads_as_nothing_yet()
    {
        var ct = TestContext.Current.CancellationToken;
        Directory.CreateDirectory(Path.GetDirectoryName(Log)!);
        await File.WriteAllBytesAsync(Log, Encoding.UTF8.GetBytes("€")[..2], ct);
        var (bytes, next) = await ConsoleFile.ReadFromAsync(Log, 0, ct);
        Assert.Empty(bytes);
        Assert.Equal(0, next);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(100)]
    public async Task A_start_at_or_past_the_end_reads_nothing(long start)
    {
        var ct = TestContext.Current.CancellationToken;
        Directory.CreateDirectory(Path.GetDirectoryName(Log)!);
        await File.WriteAllTextAsync(Log, "abc\n", ct);
        var (bytes, next) = await ConsoleFile.ReadFromAsync(Log, start, ct);
        Assert.Empty(bytes);
        Assert.Equal(start, next);
    }

    [Fact]
    public async Task A_missing_log_reads_nothing()
    {
        var (bytes, next) = await ConsoleFile.ReadFromAsync(Log, 0, TestContext.Current.CancellationToken);
        Assert.Empty(bytes);
        Assert.Equal(0, next);
    }
}
