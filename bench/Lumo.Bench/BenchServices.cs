using Lumo.Core;
using Lumo.Sandbox;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lumo.Bench;

/// <summary>Lumo's use cases outside the function app, on the bench's Azurite and sandbox: for scenarios that time one use case on its own.</summary>
public static class BenchServices
{
    public static ServiceProvider Create(string storage, SandboxHost sandbox, string prefix, IReadOnlyDictionary<string, string?>? settings = null) =>
        new ServiceCollection().AddLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = storage, ["Lumo:Storage:NamePrefix"] = prefix,
                ["Lumo:Klaviyo:ApiBaseUrl"] = sandbox.BaseUrl.ToString(), ["Lumo:Line:ApiBaseUrl"] = sandbox.BaseUrl.ToString(),
            }.Concat(settings ?? new Dictionary<string, string?>())).Build()).AddLumoCore().BuildServiceProvider();
}
