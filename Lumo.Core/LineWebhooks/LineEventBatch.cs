using System.Text.Json.Nodes;

namespace Lumo.Core.LineWebhooks;

/// <summary>Queue message: LINE events received for one account, to be applied in order.</summary>
public sealed record LineEventBatch(string WorkspaceId, string AccountId, List<JsonObject> Events);
