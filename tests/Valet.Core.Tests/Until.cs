using System.Diagnostics;

namespace Valet.Core.Tests;

/// <summary>Polls for a condition under a deadline, for tests with real processes.</summary>
public static class Until
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
                throw new TimeoutException($"Timed out waiting for {what}");
            await Task.Delay(20, Xunit.TestContext.Current.CancellationToken);
        }
    }
}
