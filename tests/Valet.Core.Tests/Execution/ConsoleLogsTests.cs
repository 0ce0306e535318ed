using System.Text;
using Valet.Core.Execution;
using Valet.Core.Items;
using Xunit;

namespace Valet.Core.Tests.Execution;

/// <summary>
/// Consoles written and read through <see cref="ConsoleLogs"/>: files in the home on SQLite, chunks in
/// the database on PostgreSQL; the same offsets and the same character rule either way.
/// </summary>
public class ConsoleLogsTests
{
    protected virtual StoreEngine Engine => StoreEngine.Sqlite;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A job with build #1, whose console the test writes.</summary>
    protected static async Task<Item> BuildAsync(TempStore store)
    {
        var job = await store.CreateAsync("app");
        await store.Db.WriteAsync(s => s.ExecuteAsync(
            """
            INSERT INTO build (job_id, number, queue_id, state, started_at, causes, executor, workspace, node)
            VALUES (@Id, 1, 1, 'running', 0, '[]', 1, '/tmp/ws', 'built-in')
            """, new { job.Id }), Ct);
        return job;
    }

    protected static ConsoleLogs Consoles(TempStore store) => new(store.Db, store.Home, TimeProvider.System);

    static async Task<string> ReadAllAsync(ConsoleLogs consoles, Item job)
    {
        using var all = new MemoryStream();
        await consoles.CopyAllToAsync(job.Id, 1, all, Ct);
        return Encoding.UTF8.GetString(all.ToArray());
    }

    /// <summary>Reads from <paramref name="start"/> until the read returns <paramref name="expected"/> (stored chunks lag the writer by up to 250 ms).</summary>
    static async Task<long> ReadsAsync(ConsoleLogs consoles, Item job, long start, string expected)
    {
        (byte[] Bytes, long Next) read = ([], start);
        await Until.HoldsAsync(async () => Encoding.UTF8.GetString((read = await consoles.ReadFromAsync(job.Id, 1, start, Ct)).Bytes) == expected,
            $"'{expected}' from {start}", TimeSpan.FromSeconds(10));
        return read.Next;
    }

    [Fact]
    public async Task Output_is_read_by_offset_while_the_build_writes_it()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await BuildAsync(store);
        var consoles = Consoles(store);

        await using (var console = consoles.Create(job.Id, 1, new SecretMasker(["hunter2"])))
        {
            await console.WriteLineAsync("Started by user alice");
            var next = await ReadsAsync(consoles, job, 0, "Started by user alice\n");
            Assert.Equal(22, next);

            await console.WriteAsync(Utf8("+ echo pw=hunter2\nhalf a li"));
            next = await ReadsAsync(consoles, job, next, "+ echo pw=****\n");
            await console.EndOutputAsync();
            next = await ReadsAsync(consoles, job, next, "half a li\n");
            await console.WriteLineAsync("Finished: SUCCESS");
            Assert.Equal(next + 18, await ReadsAsync(consoles, job, next, "Finished: SUCCESS\n"));
        }

        Assert.Equal("Started by user alice\n+ echo pw=****\nhalf a li\nFinished: SUCCESS\n", await ReadAllAsync(consoles, job));
        var end = (await consoles.RangeAsync(job.Id, 1, 0, Ct)).End;
        Assert.Equal(new ConsoleRange(end + 5, end + 5), await consoles.RangeAsync(job.Id, 1, end + 5, Ct));
    }

    [Fact]
    public async Task A_finished_console_is_whole_as_soon_as_its_writer_is_disposed()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await BuildAsync(store);
        var consoles = Consoles(store);

        await using (var console = consoles.Create(job.Id, 1, new SecretMasker([])))
        {
            for (var i = 0; i < 100; i++)
                await console.WriteLineAsync($"line {i}");
        }

        // No waiting: the last lines were stored when the writer was disposed.
        var (bytes, next) = await consoles.ReadFromAsync(job.Id, 1, 0, Ct);
        Assert.Equal(string.Concat(Enumerable.Range(0, 100).Select(i => $"line {i}\n")), Encoding.UTF8.GetString(bytes));
        Assert.Equal(bytes.Length, next);
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
    public async Task A_read_never_ends_inside_a_character_split_between_writes(string character, int bytesFirst)
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await BuildAsync(store);
        var consoles = Consoles(store);
        var encoded = Utf8(character);

        await using (var console = consoles.Create(job.Id, 1, new SecretMasker([])))
            await console.WriteAsync((byte[])[(byte)'a', (byte)'b', .. encoded[..bytesFirst]]);
        var (bytes, next) = await consoles.ReadFromAsync(job.Id, 1, 0, Ct);
        Assert.Equal("ab", Encoding.UTF8.GetString(bytes));
        Assert.Equal(2, next);

        // The rest goes on where the console ends, as a server recording a crashed build does.
        await using (var console = await consoles.AppendAsync(job.Id, 1, new SecretMasker([]), Ct))
            await console.WriteAsync(encoded.AsMemory(bytesFirst));
        var (rest, end) = await consoles.ReadFromAsync(job.Id, 1, next, Ct);
        Assert.Equal(character, Encoding.UTF8.GetString(rest));
        Assert.Equal(2 + encoded.Length, end);
    }

    [Fact]
    public async Task A_console_written_a_byte_at_a_time_reads_whole_characters_at_every_step()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await BuildAsync(store);
        var consoles = Consoles(store);
        var text = Utf8("x😀é€y");
        // Where a read from 0 may end after each byte: only after a whole character.
        long[] ends = [1, 1, 1, 1, 5, 5, 7, 7, 7, 10, 11];

        await using (consoles.Create(job.Id, 1, new SecretMasker([])))
        {
        }
        for (var i = 0; i < text.Length; i++)
        {
            // A writer per byte: each byte is a chunk of its own in the database.
            await using (var console = await consoles.AppendAsync(job.Id, 1, new SecretMasker([]), Ct))
                await console.WriteAsync(text.AsMemory(i, 1));
            Assert.Equal(new ConsoleRange(0, ends[i]), await consoles.RangeAsync(job.Id, 1, 0, Ct));
        }
        Assert.Equal("x😀é€y", await ReadAllAsync(consoles, job));
        Assert.Equal("é€y", Encoding.UTF8.GetString((await consoles.ReadFromAsync(job.Id, 1, 5, Ct)).Bytes));
    }

    [Fact]
    public async Task A_long_console_reads_the_same_from_any_offset()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await BuildAsync(store);
        var consoles = Consoles(store);
        // Over 3 MiB, so a copy crosses many pages of chunks; lines with two-byte characters, so offsets fall inside them.
        var lines = Enumerable.Range(0, 60_000).Select(i => $"line {i}: déjà vu\n").ToList();
        var whole = Utf8(string.Concat(lines));

        await using (var console = consoles.Create(job.Id, 1, new SecretMasker([])))
        {
            foreach (var batch in lines.Chunk(1000))
                await console.WriteAsync(Utf8(string.Concat(batch)));
        }

        Assert.Equal(whole, Utf8(await ReadAllAsync(consoles, job)));
        foreach (var start in new long[] { 0, 1, ConsoleChunks.ChunkSize - 1, ConsoleChunks.ChunkSize, 1_000_003, whole.Length - 1 })
        {
            var range = await consoles.RangeAsync(job.Id, 1, start, Ct);
            Assert.Equal(new ConsoleRange(start, whole.Length), range);
            using var copy = new MemoryStream();
            await consoles.CopyToAsync(job.Id, 1, range, copy, Ct);
            Assert.Equal(whole[(int)start..], copy.ToArray());
        }
    }

    [Fact]
    public async Task Progressive_reads_while_the_build_writes_put_the_console_together_exactly()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await BuildAsync(store);
        var consoles = Consoles(store);
        var expected = new StringBuilder();
        using var read = new MemoryStream();
        long next = 0;

        async Task ReadMoreAsync()
        {
            var (bytes, after) = await consoles.ReadFromAsync(job.Id, 1, next, Ct);
            read.Write(bytes);
            next = after;
        }

        await using (var console = consoles.Create(job.Id, 1, new SecretMasker([])))
        {
            for (var i = 0; i < 40; i++)
            {
                var piece = $"step {i} → ✓ ";
                expected.Append(piece);
                // Written a byte-split at a time, so stored chunks end inside characters.
                var bytes = Utf8(piece);
                await console.WriteAsync(bytes.AsMemory(0, bytes.Length - 1));
                await ReadMoreAsync();
                await console.WriteAsync(bytes.AsMemory(bytes.Length - 1));
                // Now and then a pause past the interval, so the timer stores chunks too, not only the writer's end.
                if (i % 10 == 0)
                    await Task.Delay(ConsoleChunks.Interval * 1.5, Ct);
            }
        }
        await ReadMoreAsync();

        Assert.Equal(expected.ToString(), Encoding.UTF8.GetString(read.ToArray()));
        Assert.Equal(read.Length, next);
    }
}

public sealed class ConsoleLogsOnPostgresTests : ConsoleLogsTests
{
    protected override StoreEngine Engine => StoreEngine.Postgres;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Deleting_a_job_deletes_its_consoles_chunks()
    {
        await using var store = await TempStore.OpenAsync(Engine);
        var job = await BuildAsync(store);
        var consoles = Consoles(store);
        await using (var console = consoles.Create(job.Id, 1, new SecretMasker([])))
            await console.WriteLineAsync("Finished: SUCCESS");
        Assert.Equal(1L, await store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT count(*) FROM console_chunk"), Ct));

        await store.Db.WriteAsync(s => store.Items.DeleteAsync(s, job.Id), Ct);

        Assert.Equal(0L, await store.Db.ReadAsync(s => s.ExecuteScalarAsync<long>("SELECT count(*) FROM console_chunk"), Ct));
        Assert.Equal(new ConsoleRange(0, 0), await consoles.RangeAsync(job.Id, 1, 0, Ct));
    }
}
