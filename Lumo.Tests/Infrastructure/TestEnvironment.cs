using Lumo.Sandbox;
using Lumo.Sandbox.Local;

namespace Lumo.Tests.Infrastructure;

/// <summary>
/// One Azurite and one sandbox for the whole test run, shared by every test class so classes can run in parallel.
/// Tests keep out of each other's way with their own table/queue prefix, LINE channel and Klaviyo account.
/// Azurite is the one named by <c>LUMO_TEST_STORAGE</c> (a connection string) or one started from node_modules.
/// </summary>
public static class TestEnvironment
{
    private static readonly Lazy<Task<string>> Storage = new(StartStorageAsync);
    private static readonly Lazy<Task<SandboxHost>> SandboxInstance = new(() => SandboxHost.StartAsync());
    private static AzuriteProcess? _azurite;

    public static Task<string> StorageConnectionStringAsync() => Storage.Value;

    /// <summary>host.json for tests: the real retry count, but no waiting between polls and retries.</summary>
    public static readonly Lazy<string> FastHostJson = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"lumo-test-host-{Environment.ProcessId}.json");
        File.WriteAllText(path, """{"version":"2.0","extensions":{"queues":{"maxDequeueCount":5,"visibilityTimeout":"00:00:00","batchSize":16,"maxPollingInterval":"00:00:00.200"}}}""");
        return path;
    });
    public static Task<SandboxHost> SandboxAsync() => SandboxInstance.Value;

    private static async Task<string> StartStorageAsync()
    {
        if (Environment.GetEnvironmentVariable("LUMO_TEST_STORAGE") is { Length: > 0 } configured) return configured;
        _azurite = await AzuriteProcess.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => _azurite.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return _azurite.ConnectionString;
    }
}
