using Lumo.Core.FlowSends;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lumo.Functions.FlowSends;

/// <summary>The refusals every Klaviyo Flow webhook endpoint answers, worded once (Klaviyo skips the profile on a 4xx other than 429).</summary>
internal static class FlowWebhookProblems
{
    public static ProblemHttpResult UnknownWorkspace(string workspaceId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown workspace", detail: $"There is no workspace '{workspaceId}'.");

    public static ProblemHttpResult WrongKey() =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Wrong Flow key",
            detail: $"Send the workspace's current key in the {FlowKeys.HeaderName} header (see Flow Message Settings).");
}
