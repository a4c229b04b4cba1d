using System.Diagnostics;
using System.Reflection;

namespace Lumo.Tests.Infrastructure;

/// <summary>Paths baked in at build time (repository root, Bicep CLI) and a helper to run a command.</summary>
public static class Repository
{
    public static string Root => Metadata("RepositoryRoot");
    /// <summary>The Bicep CLI from its NuGet package, made executable (package extraction may drop the bit).</summary>
    public static string BicepPath
    {
        get
        {
            var path = Metadata("BicepPath");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute);
            return path;
        }
    }

    private static string Metadata(string key) =>
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static async Task<(int ExitCode, string Output)> RunAsync(string file, string arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Root,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
