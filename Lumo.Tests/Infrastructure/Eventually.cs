namespace Lumo.Tests.Infrastructure;

/// <summary>Waits for asynchronous work (queues, timers) to show its effect; fails with the last observation.</summary>
public static class Eventually
{
    public static async Task<T> MatchesAsync<T>(Func<Task<T>> observe, Func<T, bool> condition, TimeSpan? timeout = null, string? because = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        T last;
        while (true)
        {
            last = await observe();
            if (condition(last)) return last;
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"Condition not met in time{(because is null ? "" : ": " + because)}. Last observed: {System.Text.Json.JsonSerializer.Serialize(last)}");
            await Task.Delay(100);
        }
    }
}
