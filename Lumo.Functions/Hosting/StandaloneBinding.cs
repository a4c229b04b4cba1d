using System.Net;

namespace Lumo.Functions.Hosting;

/// <summary>
/// Where the standalone app listens (<c>Lumo:Standalone:Urls</c>, loopback by default) and whether that is beyond this
/// machine, in which case trigger endpoints require the admin key (the standalone runner sends it).
/// </summary>
public static class StandaloneBinding
{
    public const string Setting = "Lumo:Standalone:Urls";
    public const string DefaultUrls = "http://127.0.0.1:5000";

    public static string UrlsOf(IConfiguration configuration) => configuration[Setting] is { Length: > 0 } urls ? urls : DefaultUrls;

    /// <summary>True when any configured address is not a loopback one (0.0.0.0, *, +, a host name or address of this machine's network).</summary>
    public static bool IsExposed(IConfiguration configuration) =>
        UrlsOf(configuration).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Any(url =>
        {
            var host = url.Split("://", 2).Last().Split('/')[0];
            host = host.StartsWith('[') ? host[1..host.IndexOf(']')] : host.Split(':')[0];
            return host != "localhost" && !(IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
        });
}
