using Lumo.Core.FlowSends;
using Lumo.Core.Friends;
using Lumo.Core.IdLinkage;
using Lumo.Core.Workspaces;
using Lumo.Functions.FlowSends;
using Lumo.Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Lumo.Functions.IdLinkage;

/// <summary>
/// Function FormLinkageCallback: <c>POST /api/flow/{workspaceId}/form-linkage</c>, the Flow-controlled variant of
/// Form ID linkage. A Klaviyo Flow (trigger Submitted Form, or Subscribed to List for double opt-in) posts the
/// Linking URL and the submission's profile, email and phone; linking for that profile opens only then. The
/// workspace's Flow key authenticates (as for Flow sends); repeating the call (Klaviyo retries) changes nothing.
/// </summary>
public static class FormLinkageCallbackEndpoint
{
    public sealed record ArmRequest(string? LinkingUrl, string? ProfileId, string? Email, string? PhoneNumber);
    public sealed record ArmAnswer(string AccountId, string ProfileId, DateTimeOffset OpenUntil);

    public static IEndpointRouteBuilder MapFormLinkageCallback(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/flow/{workspaceId}/form-linkage", Receive).WithTags("Klaviyo Flow").ExcludeFromDescription();
        return routes;
    }

    /// <summary>The callback's body is four short strings.</summary>
    public const int MaxBodyBytes = 8 * 1024;

    public static async Task<Results<Ok<ArmAnswer>, ValidationProblem, ProblemHttpResult>> Receive(string workspaceId, [FromHeader(Name = FlowKeys.HeaderName)] string? key,
        HttpRequest http, FlowSendIntake flowKeys, WorkspaceStore workspaces, IdLinkageSettingsStore settingsStore, FormLinkArms arms, IOptions<IdLinkageOptions> options,
        TimeProvider clock, CancellationToken ct)
    {
        // The key first (as for Flow sends), before the body is read.
        if (await flowKeys.RefuseUnlessAuthenticAsync(workspaceId, key, ct) is { } refusal)
            return refusal == FlowSendOutcome.UnknownWorkspace ? FlowWebhookProblems.UnknownWorkspace(workspaceId) : FlowWebhookProblems.WrongKey();
        var (request, problem) = await LimitedBody.ReadJsonAsync<ArmRequest>(http, MaxBodyBytes, ct);
        if (request is null) return problem!;

        // Klaviyo renders a missing profile value as an empty string: that is "not given", not "invalid".
        var phoneGiven = !string.IsNullOrWhiteSpace(request.PhoneNumber);
        var region = phoneGiven ? (await workspaces.GetWorkspaceIfExistsAsync(workspaceId, ct))?.DefaultRegion : null; // read only when a phone needs it
        var (email, phone, errors) = ContactDetails.Normalise(string.IsNullOrWhiteSpace(request.Email) ? null : request.Email,
            phoneGiven ? request.PhoneNumber : null, region);
        var accountId = AccountOf(request.LinkingUrl, workspaceId, options.Value);
        if (accountId is null) errors["linkingUrl"] = ["Give the Success Screen Button URL of this workspace's Form ID linkage."];
        if (!Lumo.Core.Ids.IsKlaviyoId(request.ProfileId?.Trim())) errors["profileId"] = ["Give the profile id: {{ person.KlaviyoID }}."];
        if (string.IsNullOrWhiteSpace(request.Email) && string.IsNullOrWhiteSpace(request.PhoneNumber)) errors["email"] = ["Give the submitted email address, phone number, or both."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var settings = await settingsStore.GetIfExistsAsync(workspaceId, accountId!, ct);
        if (settings is not { FormFlowControlled: true, FormId: not null })
            return TypedResults.Problem(statusCode: 409, title: "Form linkage is not Flow-controlled",
                detail: "Turn on the Flow-controlled variant of Form ID linkage for this LINE account first.");
        await arms.ArmAsync(workspaceId, accountId!, request.ProfileId!.Trim(), email, phone, ct);
        return TypedResults.Ok(new ArmAnswer(accountId!, request.ProfileId.Trim(), clock.GetUtcNow() + FormLinkArms.Lifetime));
    }

    // The Linking URL is {PublicBaseUrl}/api/link/{workspaceId}/{accountId}/form[?...]; it names the LINE account.
    private static string? AccountOf(string? linkingUrl, string workspaceId, IdLinkageOptions options)
    {
        if (!Uri.TryCreate(linkingUrl, UriKind.Absolute, out var url)) return null;
        var prefix = options.Url($"/api/link/{workspaceId}/").AbsolutePath;
        var path = url.AbsolutePath;
        if (!path.StartsWith(prefix, StringComparison.Ordinal) || !path.EndsWith("/form", StringComparison.Ordinal)) return null;
        var accountId = path[prefix.Length..^"/form".Length];
        return Lumo.Core.Ids.IsLumoId(accountId) ? accountId : null;
    }
}
