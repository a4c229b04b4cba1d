using Lumo.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Lumo.Tests.AdminPage;

/// <summary>What an operator does on the admin page, step by step, and screenshots of the pages on the way (LUMO_SCREENSHOTS=folder).</summary>
public static class AdminPageDriver
{
    public static async Task SignInAsync(this IPage page, string key = LumoApp.AdminKey)
    {
        await page.GotoAsync("/api/console/sign-in");
        await page.GetByLabel("Admin key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // The page script moves on once the cookie is set, or shows why not. The URL is polled rather than a navigation
        // event awaited (a CI run once waited 30 s for one), and a refusal fails at once with the page's own words.
        var error = page.Locator("#f-key-error");
        for (var deadline = DateTime.UtcNow.AddSeconds(30); page.Url.Contains("/sign-in"); await Task.Delay(50))
        {
            if (await error.IsVisibleAsync()) throw new InvalidOperationException($"Sign-in refused: {await error.InnerTextAsync()}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Sign-in did not leave {page.Url} within 30 s.");
        }
        // The next page's document is read, asked of the page itself: a CI run once waited 30 s for a "load" event while
        // Playwright had already seen the network go idle. What follows waits for what it needs on the page anyway.
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !await IsParsedAsync(page); await Task.Delay(50))
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{page.Url} was not loaded within 30 s of signing in.");
    }

    private static async Task<bool> IsParsedAsync(IPage page)
    {
        try
        {
            return await page.EvaluateAsync<string>("document.readyState") != "loading";
        }
        catch (PlaywrightException)
        {
            return false; // the document changed while asked (still navigating)
        }
    }

    /// <summary>Waits until the page shows the sign-in screen (after signing out, or a refused session).</summary>
    public static Task ShowsSignInAsync(this IPage page) =>
        Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/sign-in"));

    public static ILocator Button(this IPage page, string name) => page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    public static ILocator Heading(this IPage page, string name) => page.GetByRole(AriaRole.Heading, new() { Name = name, Exact = true });

    public static async Task<IResponse> OpenAsync(this IPage page, string path) =>
        await page.GotoAsync(path) ?? throw new InvalidOperationException($"No response for {path}.");

    /// <summary>Saves a full-page screenshot as docs/screenshots/NAME.png when LUMO_SCREENSHOTS names a folder (docs/make-screenshots.sh).</summary>
    public static async Task ScreenshotForDocsAsync(this IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("LUMO_SCREENSHOTS") is not { Length: > 0 } folder) return;
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }
}
