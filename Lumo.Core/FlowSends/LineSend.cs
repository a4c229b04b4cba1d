using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Lumo.Core.FlowSends;

public enum SendStatus { Queued, Sent, Skipped, Failed }

/// <summary>
/// One LINE send and what became of it. <see cref="Id"/> is derived from what identifies the send, so every retry
/// of the same request finds the same record — and pushes with the same <see cref="RetryKey"/>, which LINE
/// accepts once within 24 hours (https://developers.line.biz/en/reference/messaging-api/#retry-api-request).
/// </summary>
public sealed record LineSend
{
    public required string WorkspaceId { get; init; }
    public required string Id { get; init; }
    public required string AccountId { get; init; }
    public required string Recipient { get; init; }
    public string? ProfileId { get; init; }
    /// <summary>Where the send came from (flow, test) and, for Flow sends, which message or text.</summary>
    public required string Source { get; init; }
    public string? MessageRef { get; init; }
    public required JsonArray Messages { get; init; }
    /// <summary>Where the tracked links of <see cref="Messages"/> lead (UTM parameters merged), by position from 1.</summary>
    public IReadOnlyList<string> Links { get; init; } = [];
    /// <summary>The original URLs of the tracked images of <see cref="Messages"/>, by position from 1.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];
    /// <summary>When <c>Opened LINE Message</c> was recorded for this send (once), if it was.</summary>
    public DateTimeOffset? OpenedAt { get; init; }
    /// <summary>Per link position, the click window in which <c>Clicked LINE Message</c> was last recorded.</summary>
    public IReadOnlyDictionary<int, long> ClickWindows { get; init; } = new Dictionary<int, long>();
    public SendStatus Status { get; init; }
    public string? Reason { get; init; }
    public string? LineRequestId { get; init; }
    /// <summary>How the send was made idempotent: "explicit" (the body's idempotencyKey) or "content" (derived from the body).</summary>
    public string? KeySource { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>The stored row's version as this copy was read or written (null for a send not stored yet).</summary>
    public string? ETag { get; init; }

    public Guid RetryKey => RetryKeyOf(Id);

    /// <summary>The send's retry key: the same send always gets the same key.</summary>
    public static Guid RetryKeyOf(string sendId) => Line.LineRetryKey.Of("lumo-line-retry-key:" + sendId);

    public static string IdOf(params string[] parts) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))))[..32].ToLowerInvariant();
}
