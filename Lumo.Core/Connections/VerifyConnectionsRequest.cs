namespace Lumo.Core.Connections;

/// <summary>Queue message: check the workspace's Klaviyo key and its LINE tokens, or one account's only.</summary>
public sealed record VerifyConnectionsRequest(string WorkspaceId, string? AccountId);
