using Azure;
using Azure.Data.Tables;
using Lumo.Core.Storage;
using QRCoder;

namespace Lumo.Core.IdLinkage;

/// <summary>
/// A custom QR code of the Klaviyo link type: which Klaviyo merge variables identify the profile (email, phone or
/// both). Its linking URL carries those variables and the recipient's linking token for Klaviyo to fill in per
/// recipient. <see cref="SignedUrlsOnly"/> refuses URLs without a valid token; codes made before linking tokens
/// existed have no such column and keep accepting unsigned URLs until an administrator switches them.
/// </summary>
public sealed record LinkQrCode
{
    public required string Id { get; init; }
    public required string WorkspaceId { get; init; }
    public required string AccountId { get; init; }
    public required string Name { get; init; }
    public bool UsesEmail { get; init; }
    public bool UsesPhone { get; init; }
    public bool SignedUrlsOnly { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

public sealed class LinkQrCodeStore(LumoTables tables)
{

    public async Task<LinkQrCode> AddAsync(LinkQrCode code, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkQrCodes, cancellationToken);
        await table.AddEntityAsync(new TableEntity(AccountPartition.Of(code.WorkspaceId, code.AccountId), code.Id)
        {
            ["Name"] = code.Name, ["UsesEmail"] = code.UsesEmail, ["UsesPhone"] = code.UsesPhone, ["SignedUrlsOnly"] = code.SignedUrlsOnly, ["CreatedAt"] = code.CreatedAt,
        }, cancellationToken);
        return code;
    }

    public async Task<LinkQrCode?> GetIfExistsAsync(string workspaceId, string accountId, string id, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkQrCodes, cancellationToken);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(AccountPartition.Of(workspaceId, accountId), id, cancellationToken: cancellationToken);
        return row.HasValue ? FromRow(row.Value!) : null;
    }

    public async Task<List<LinkQrCode>> ListAsync(string workspaceId, string accountId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkQrCodes, cancellationToken);
        var partition = AccountPartition.Of(workspaceId, accountId);
        var result = new List<LinkQrCode>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, cancellationToken: cancellationToken))
            result.Add(FromRow(row));
        return result;
    }

    /// <summary>Sets whether the code refuses unsigned URLs; false when the code is gone.</summary>
    public async Task<bool> SetSignedUrlsOnlyAsync(LinkQrCode code, bool signedOnly, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkQrCodes, cancellationToken);
        try
        {
            await table.UpdateEntityAsync(new TableEntity(AccountPartition.Of(code.WorkspaceId, code.AccountId), code.Id) { ["SignedUrlsOnly"] = signedOnly },
                ETag.All, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    /// <summary>Deletes the code; false when there was none. Links made through it stay.</summary>
    public async Task<bool> DeleteAsync(string workspaceId, string accountId, string id, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(TableNames.LinkQrCodes, cancellationToken);
        try
        {
            await table.DeleteEntityAsync(AccountPartition.Of(workspaceId, accountId), id, ETag.All, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    private static LinkQrCode FromRow(TableEntity row)
    {
        var (workspaceId, accountId) = AccountPartition.Parse(row.PartitionKey);
        return new LinkQrCode
        {
            Id = row.RowKey, WorkspaceId = workspaceId, AccountId = accountId, Name = row.GetString("Name") ?? "",
            UsesEmail = row.GetBoolean("UsesEmail") ?? false, UsesPhone = row.GetBoolean("UsesPhone") ?? false,
            SignedUrlsOnly = row.GetBoolean("SignedUrlsOnly") ?? false,
            CreatedAt = row.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        };
    }
}

/// <summary>QR code images (PNG) of linking URLs.</summary>
public static class QrImages
{
    public static byte[] Png(string url, int pixelsPerModule = 8)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(url, QRCodeGenerator.ECCLevel.M);
        return new PngByteQRCode(data).GetGraphic(pixelsPerModule);
    }
}
