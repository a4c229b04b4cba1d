using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;
using Microsoft.AspNetCore.WebUtilities;

namespace Lumo.Core.IdLinkage;

/// <summary>
/// A linking attempt between our landing page and LINE Login's callback. Its id is the OAuth <c>state</c> (32
/// random bytes, so it cannot be guessed or forged); it keeps the nonce and PKCE verifier, and the Klaviyo profile
/// the landing resolved, so no email or phone travels further in URLs.
/// </summary>
public sealed record LinkSession
{
    public required string Id { get; init; }
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public required string Method { get; init; }
    public required string ProfileId { get; init; }
    public string? QrCodeId { get; init; }
    public required string Nonce { get; init; }
    public required string CodeVerifier { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    /// <summary>Flow-controlled form linkage: the arm rows this attempt found, used up once it links.</summary>
    public string[] ArmRowKeys { get; init; } = [];

    public static string NewSecret() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
}

public sealed class LinkSessionStore(LumoTables tables)
{
    public async Task SaveAsync(LinkSession session, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkSessions, cancellationToken);
        await table.AddEntityAsync(new TableEntity(session.Id, "")
        {
            ["WorkspaceId"] = session.WorkspaceId, ["AccountId"] = session.AccountId, ["Method"] = session.Method, ["ProfileId"] = session.ProfileId,
            ["QrCodeId"] = session.QrCodeId, ["Nonce"] = session.Nonce, ["CodeVerifier"] = session.CodeVerifier, ["ExpiresAt"] = session.ExpiresAt,
            ["ArmRowKeys"] = string.Join(",", session.ArmRowKeys),
        }, cancellationToken);
    }

    /// <summary>
    /// Takes the session out, so that it serves one callback only: a replayed or concurrent second callback finds
    /// nothing. Null when there is no such session (forged, replayed, or already used).
    /// </summary>
    public async Task<LinkSession?> TakeAsync(string id, CancellationToken cancellationToken)
    {
        if (id.Length is 0 or > 64) return null;
        var table = await tables.GetAsync(TableNames.LinkSessions, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(id, "", cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        try
        {
            await table.DeleteEntityAsync(id, "", row.Value!.ETag, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null; // another callback with the same state took it first
        }
        var r = row.Value;
        return new LinkSession
        {
            Id = id, WorkspaceId = r.GetString("WorkspaceId"), AccountId = r.GetString("AccountId"), Method = r.GetString("Method"),
            ProfileId = r.GetString("ProfileId"), QrCodeId = r.GetString("QrCodeId"), Nonce = r.GetString("Nonce"),
            CodeVerifier = r.GetString("CodeVerifier"), ExpiresAt = r.GetDateTimeOffset("ExpiresAt") ?? DateTimeOffset.MinValue,
            ArmRowKeys = (r.GetString("ArmRowKeys") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
        };
    }
}
