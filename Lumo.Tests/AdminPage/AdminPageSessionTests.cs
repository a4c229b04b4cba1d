using System.Net;
using Lumo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Lumo.Tests.AdminPage;

/// <summary>An admin page session is checked by any instance of the deployment, and ends with the admin key that opened it.</summary>
public sealed class AdminPageSessionTests
{
    [Fact]
    public async Task ASessionWorksOnEveryInstanceAndEndsWhenTheAdminKeyChanges()
    {
        await using var first = await LumoApp.StartAsync(runTriggers: false);
        await using var second = await LumoApp.StartAsync(runTriggers: false, sharingStorageWith: first.Prefix);
        await using var rekeyed = await LumoApp.StartAsync(runTriggers: false, sharingStorageWith: first.Prefix,
            settings: new() { ["Lumo:Admin:Key"] = "a-new-admin-key-after-rotation" });

        var signedIn = await AdminPageHttp.SignInAsync(first.CreateClient());
        Assert.Equal(HttpStatusCode.NoContent, signedIn.StatusCode);
        var cookie = AdminPageHttp.SessionCookie(signedIn);

        Assert.Equal(HttpStatusCode.OK, await WorkspacesPageAsync(second, cookie));
        Assert.Equal(HttpStatusCode.Redirect, await WorkspacesPageAsync(rekeyed, cookie)); // to sign-in
        Assert.Equal(HttpStatusCode.Redirect, await WorkspacesPageAsync(second, cookie + "x"));
    }

    [Fact]
    public async Task SigningOutAfterEarlierSessionsExpiredClearsTheirRowsAndStillSignsOut()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await LumoApp.StartAsync(runTriggers: false, services: s => s.AddSingleton<TimeProvider>(clock));
        Assert.Equal(HttpStatusCode.Redirect, await SignInAndOutAsync(app)); // leaves the row of a signed-out session
        var table = await app.Service<Lumo.Core.Storage.LumoTables>().GetAsync(Lumo.Core.Storage.TableNames.OperationsStatus);
        Assert.Single(table.Query<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == "admin-page-sessions"));

        clock.Advance(TimeSpan.FromHours(9)); // that session would have expired by now
        Assert.Equal(HttpStatusCode.Redirect, await SignInAndOutAsync(app));
        Assert.Single(table.Query<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == "admin-page-sessions")); // only the new one
    }

    private static async Task<HttpStatusCode> SignInAndOutAsync(LumoApp app)
    {
        var browser = AdminPageHttp.Client(app, AdminPageHttp.SessionCookie(await AdminPageHttp.SignInAsync(app.CreateClient())));
        var token = AdminPageHttp.AntiForgeryToken(await browser.GetStringAsync("/api/console/workspaces"));
        return (await browser.PostAsync("/api/console/sign-out", new FormUrlEncodedContent(new Dictionary<string, string> { ["__csrf"] = token }))).StatusCode;
    }

    private static async Task<HttpStatusCode> WorkspacesPageAsync(LumoApp app, string cookie) =>
        (await AdminPageHttp.Client(app, cookie).GetAsync("/api/console/workspaces")).StatusCode;
}
