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
    public static Task<SandboxHost> SandboxAsync() => SandboxInstance.Value;

    private static async Task<string> StartStorageAsync()
    {
        if (Environment.GetEnvironmentVariable("LUMO_TEST_STORAGE") is { Length: > 0 } configured) return configured;
        _azurite = await AzuriteProcess.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => _azurite.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return _azurite.ConnectionString;
    }
}
