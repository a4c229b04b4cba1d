using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Lumo.Sandbox.Local;

/// <summary>
/// Starts Azurite (the npm package pinned in the repository's package.json) on free loopback ports with in-memory
/// persistence, for tests and benchmarks. Run <c>npm ci</c> at the repository root first. Azurite never outlives the
/// process that started it: it is stopped on dispose, on normal exit and on SIGTERM/SIGINT, and a watchdog beside it
/// stops it within a second when its parent dies without a word (SIGKILL, a crash).
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<PosixSignalRegistration> _signals = [];

    private AzuriteProcess(Process process, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT })
            _signals.Add(PosixSignalRegistration.Create(signal, _ => Stop()));
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
            $"BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{tablePort}/devstoreaccount1;";
    }

    /// <summary>A connection string for this Azurite's well-known development account.</summary>
    public string ConnectionString { get; }

    public static async Task<AzuriteProcess> StartAsync(TimeSpan? timeout = null)
    {
        var executable = FindExecutable();
        var (blob, queue, table) = (FreePort(), FreePort(), FreePort());
        var arguments = $"--silent --inMemoryPersistence --skipApiVersionCheck --loose --blobHost 127.0.0.1 --blobPort {blob} " +
                        $"--queueHost 127.0.0.1 --queuePort {queue} --tableHost 127.0.0.1 --tablePort {table}";
        // The shell runs Azurite and watches this process: when it is gone, Azurite goes too.
        var watchdog = $"'{executable}' {arguments} & child=$!; trap 'kill -9 $child 2>/dev/null; exit 0' TERM INT; " +
                       $"while kill -0 {Environment.ProcessId} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; kill -9 $child 2>/dev/null";
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", watchdog },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        foreach (var port in new[] { blob, queue, table })
        {
            while (!await CanConnectAsync(port))
            {
                if (process.HasExited) throw new InvalidOperationException($"Azurite exited with code {process.ExitCode}.");
                if (DateTime.UtcNow > deadline) throw new TimeoutException("Azurite did not open its ports in time.");
                await Task.Delay(100);
            }
        }
        return new AzuriteProcess(process, blob, queue, table);
    }

    private static string FindExecutable()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "node_modules", ".bin", "azurite");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("node_modules/.bin/azurite was not found above " + AppContext.BaseDirectory + ": run `npm ci` at the repository root.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> CanConnectAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Stop()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        await _process.WaitForExitAsync();
        foreach (var signal in _signals) signal.Dispose();
        _process.Dispose();
    }
}
