using System.Reflection;

namespace Lumo.Functions.AdminPage;

/// <summary>The page's one style sheet and one script, embedded in the assembly (no build step, nothing from elsewhere).</summary>
public static class PageAssets
{
    private static readonly Dictionary<string, (byte[] Content, string Type)> Assets = new()
    {
        ["admin-page.css"] = (Read("admin-page.css"), "text/css; charset=utf-8"),
        ["admin-page.js"] = (Read("admin-page.js"), "text/javascript; charset=utf-8"),
    };

    public static IResult Serve(string name, HttpResponse response)
    {
        if (!Assets.TryGetValue(name, out var asset)) return Results.NotFound();
        response.Headers.CacheControl = "public, max-age=300";
        response.Headers["X-Content-Type-Options"] = "nosniff";
        return Results.Bytes(asset.Content, asset.Type);
    }

    private static byte[] Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Lumo.Functions.AdminPage.Assets." + name)
            ?? throw new InvalidOperationException($"The admin page asset {name} is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
