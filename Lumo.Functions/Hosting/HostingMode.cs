namespace Lumo.Functions.Hosting;

/// <summary>
/// Whether the Azure Functions host runs us as a custom handler (it passes <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>) or
/// we are the whole system ourselves (standalone: a laptop, CI, the benchmarks).
/// </summary>
public sealed record HostingMode(int? CustomHandlerPort)
{
    public const string PortVariable = "FUNCTIONS_CUSTOMHANDLER_PORT";

    public bool IsUnderFunctionsHost => CustomHandlerPort is not null;
    public bool IsStandalone => !IsUnderFunctionsHost;

    public static HostingMode From(IConfiguration configuration) =>
        new(int.TryParse(configuration[PortVariable], out var port) ? port : null);
}
