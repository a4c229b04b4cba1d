using Azure;
using Azure.Security.KeyVault.Secrets;
using Lumo.Core.Secrets;
using Moq;

namespace Lumo.Tests.Secrets;

/// <summary>The Key Vault adapter against a mocked SecretClient (the vendor SDK seam).</summary>
public sealed class KeyVaultSecretStoreTests
{
    private readonly Mock<SecretClient> _client = new();

    [Fact]
    public async Task ReadsTheSecretValue()
    {
        _client.Setup(c => c.GetSecretAsync("lumo-a-klaviyo-api-key", null, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Response.FromValue(new KeyVaultSecret("lumo-a-klaviyo-api-key", "pk_value"), Mock.Of<Response>()));

        Assert.Equal("pk_value", await new KeyVaultSecretStore(_client.Object).GetIfExistsAsync("lumo-a-klaviyo-api-key"));
    }

    [Fact]
    public async Task ReportsAMissingSecretAsNull()
    {
        _client.Setup(c => c.GetSecretAsync("missing", null, It.IsAny<CancellationToken>())).ThrowsAsync(new RequestFailedException(404, "SecretNotFound"));

        Assert.Null(await new KeyVaultSecretStore(_client.Object).GetIfExistsAsync("missing"));
    }

    [Fact]
    public async Task LetsOtherFailuresThrough()
    {
        _client.Setup(c => c.GetSecretAsync("forbidden", null, It.IsAny<CancellationToken>())).ThrowsAsync(new RequestFailedException(403, "Forbidden"));

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => new KeyVaultSecretStore(_client.Object).GetIfExistsAsync("forbidden"));
        Assert.Equal(403, error.Status);
    }

    [Fact]
    public async Task WritesTheSecret()
    {
        _client.Setup(c => c.SetSecretAsync("name", "value", It.IsAny<CancellationToken>()))
            .ReturnsAsync(Response.FromValue(new KeyVaultSecret("name", "value"), Mock.Of<Response>())).Verifiable();

        await new KeyVaultSecretStore(_client.Object).SetAsync("name", "value");

        _client.Verify();
    }

    [Fact]
    public async Task DeletingAMissingSecretIsNotAnError()
    {
        _client.Setup(c => c.StartDeleteSecretAsync("gone", It.IsAny<CancellationToken>())).ThrowsAsync(new RequestFailedException(404, "SecretNotFound"));

        await new KeyVaultSecretStore(_client.Object).DeleteAsync("gone");
    }

    [Fact]
    public async Task TheCacheServesRepeatedReadsWithoutCallingTheVault()
    {
        _client.Setup(c => c.GetSecretAsync("hot", null, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Response.FromValue(new KeyVaultSecret("hot", "v"), Mock.Of<Response>()));
        var store = new CachingSecretStore(new KeyVaultSecretStore(_client.Object), new Microsoft.Extensions.Caching.Memory.MemoryCache(new Microsoft.Extensions.Caching.Memory.MemoryCacheOptions()));

        for (var i = 0; i < 5; i++) Assert.Equal("v", await store.GetIfExistsAsync("hot"));

        _client.Verify(c => c.GetSecretAsync("hot", null, It.IsAny<CancellationToken>()), Times.Once);
    }
}
