using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Lumo.Functions.Hosting;

/// <summary>
/// Who the client is, for per-client rate limits: ASP.NET Core's forwarded-headers handling, trusting
/// <c>X-Forwarded-For</c> only from known proxies. Loopback is known by default: in Azure the Functions host (on
/// loopback) forwards what Azure's front end sent, whose last X-Forwarded-For entry is the caller's address; anything a
/// caller writes there itself comes before it and is ignored (ForwardLimit 1). Behind another proxy, name it in
/// <c>Lumo__Network__KnownProxies</c> (addresses) or <c>Lumo__Network__KnownNetworks</c> (CIDR), comma-separated.
/// </summary>
public static class ForwardedHeaders
{
    public static IServiceCollection AddLumoForwardedHeaders(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = 1;
            foreach (var proxy in List(configuration["Lumo:Network:KnownProxies"]))
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            foreach (var network in List(configuration["Lumo:Network:KnownNetworks"]))
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        });
        return services;
    }

    private static IEnumerable<string> List(string? setting) =>
        (setting ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
