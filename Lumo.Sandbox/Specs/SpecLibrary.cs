namespace Lumo.Sandbox.Specs;

/// <summary>
/// The official specifications in shared/specs, loaded once per process. The folder is found from
/// <c>LUMO_SPECS_PATH</c> or by walking up from the working and base directories to a <c>shared/specs</c> folder.
/// </summary>
public static class SpecLibrary
{
    private static readonly Lazy<SpecDocument> LineMessaging = new(() => SpecDocument.Load(Path.Combine(Folder, "line", "messaging-api.yml")));
    private static readonly Lazy<SpecDocument> LineWebhook = new(() => SpecDocument.Load(Path.Combine(Folder, "line", "webhook.yml")));
    private static readonly Lazy<SpecDocument> Klaviyo = new(() => SpecDocument.Load(Path.Combine(Folder, "klaviyo", "openapi-stable-2026-07-15.json")));
    private static readonly Lazy<string> SpecsFolder = new(FindFolder);

    public static string Folder => SpecsFolder.Value;
    public static SpecDocument LineMessagingApi => LineMessaging.Value;
    public static SpecDocument LineWebhooks => LineWebhook.Value;
    public static SpecDocument KlaviyoApi => Klaviyo.Value;

    private static string FindFolder()
    {
        if (Environment.GetEnvironmentVariable("LUMO_SPECS_PATH") is { Length: > 0 } configured && Directory.Exists(configured))
            return configured;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "specs"), Path.Combine(dir.FullName, "..", "shared", "specs") })
                    if (File.Exists(Path.Combine(candidate, "line", "messaging-api.yml")))
                        return Path.GetFullPath(candidate);
            }
        }
        throw new DirectoryNotFoundException("The vendor specifications (shared/specs) were not found; set LUMO_SPECS_PATH.");
    }
}
