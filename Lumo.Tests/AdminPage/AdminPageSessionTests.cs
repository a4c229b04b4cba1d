using System.Net;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

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

        var signIn = new HttpRequestMessage(HttpMethod.Post, "/api/manage/session");
        signIn.Headers.Add("x-functions-key", LumoApp.AdminKey);
        var signedIn = await first.CreateClient().SendAsync(signIn);
        Assert.Equal(HttpStatusCode.NoContent, signedIn.StatusCode);
        var cookie = signedIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

        Assert.Equal(HttpStatusCode.OK, await WorkspacesPageAsync(second, cookie));
        Assert.Equal(HttpStatusCode.Redirect, await WorkspacesPageAsync(rekeyed, cookie)); // to sign-in
        Assert.Equal(HttpStatusCode.Redirect, await WorkspacesPageAsync(second, cookie + "x"));
    }

    private static async Task<HttpStatusCode> WorkspacesPageAsync(LumoApp app, string cookie)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Add("Cookie", cookie);
        return (await client.GetAsync("/api/console/workspaces")).StatusCode;
    }
}
