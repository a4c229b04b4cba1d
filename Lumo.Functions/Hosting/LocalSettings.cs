using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;

namespace Lumo.Functions.Hosting;

/// <summary>
/// Reads local.settings.json the way Core Tools would: its "Values" become settings, with <c>__</c> meaning a
/// section separator. Environment variables still win, as they do under Core Tools.
/// </summary>
internal static class LocalSettings
{
    public const string FileName = "local.settings.json";

    public static void AddLocalSettings(this ConfigurationManager configuration, string startDirectory)
    {
        var path = configuration["Lumo:LocalSettingsPath"] ?? Find(startDirectory);
        if (path is null || !File.Exists(path)) return;

        var values = JsonNode.Parse(File.ReadAllText(path))?["Values"]?.AsObject() ?? [];
        var settings = values.ToDictionary(v => v.Key.Replace("__", ":"), v => v.Value?.ToString());
        var sources = ((IConfigurationBuilder)configuration).Sources;
        var source = new MemoryConfigurationSource { InitialData = settings };
        var envIndex = sources.ToList().FindIndex(s => s is EnvironmentVariablesConfigurationSource);
        if (envIndex < 0) sources.Add(source);
        else sources.Insert(envIndex, source);
    }

    // The app runs from bin/…, the file sits at the repository root: look a few folders up.
    private static string? Find(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, FileName);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
