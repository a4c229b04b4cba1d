using System.Diagnostics;

namespace Lumo.Bench;

/// <summary>
/// The processor time this process and Azurite (every process whose command line names it) used between two
/// readings, as cores kept busy over the wall time between them. On a 2-core machine this says whether a run left
/// Azurite — one Node.js thread — a core of its own, or took part of it (Linux: read from <c>/proc</c>).
/// </summary>
public sealed record CpuTimes(TimeSpan Wall, TimeSpan Bench, TimeSpan Azurite)
{
    private const double TicksPerSecond = 100; // USER_HZ: /proc reports clock ticks of 1/100 s on Linux

    public static CpuTimes Now()
    {
        using var self = Process.GetCurrentProcess();
        return new(TimeSpan.FromSeconds(Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency), self.TotalProcessorTime, AzuriteCpu());
    }

    public CpuTimes Since(CpuTimes start) => new(Wall - start.Wall, Bench - start.Bench, Azurite - start.Azurite);

    public override string ToString() =>
        $"this process {Bench.TotalSeconds / Wall.TotalSeconds:N2} cores, Azurite {Azurite.TotalSeconds / Wall.TotalSeconds:N2} cores";

    private static TimeSpan AzuriteCpu()
    {
        var ticks = 0L;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            try
            {
                var command = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (!command.Contains("azurite", StringComparison.Ordinal) || command.StartsWith("/bin/sh", StringComparison.Ordinal)) continue;
                // Fields after the command's closing parenthesis: state is the 3rd field, utime and stime the 14th and 15th.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(fields[11]) + long.Parse(fields[12]);
            }
            catch (IOException) { } // the process ended meanwhile
            catch (UnauthorizedAccessException) { }
        }
        return TimeSpan.FromSeconds(ticks / TicksPerSecond);
    }
}
