using Lumo.Functions.Hosting;
using Lumo.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Routing.Template;

namespace Lumo.Tests.Hosting;

/// <summary>
/// function.json folders and the app's endpoints describe the same functions: the host can only call what a folder
/// declares, and a folder without an endpoint would fail every invocation.
/// </summary>
public sealed class FunctionManifestTests : IAsyncLifetime
{
    private const string RoutePrefix = "api"; // host.json extensions.http.routePrefix
    private LumoApp _app = null!;
    private FunctionManifest _manifest = null!;
    private List<RouteEndpoint> _endpoints = null!;

    public async Task InitializeAsync()
    {
        _app = await LumoApp.StartAsync(runTriggers: false);
        _manifest = _app.Service<FunctionManifest>();
        _endpoints = _app.Service<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public void EveryTimerAndQueueFunctionHasItsInvocationEndpoint()
    {
        var served = _endpoints.Select(e => e.Metadata.GetMetadata<TriggerFunctionMetadata>()?.FunctionName).OfType<string>().ToHashSet();
        Assert.All(_manifest.Functions.Where(f => !f.IsHttp), f => Assert.Contains(f.Name, served));
    }

    [Fact]
    public void EveryInvocationEndpointHasAFunctionJson()
    {
        var declared = _manifest.Functions.Where(f => !f.IsHttp).Select(f => f.Name).ToHashSet();
        var served = _endpoints.Select(e => e.Metadata.GetMetadata<TriggerFunctionMetadata>()?.FunctionName).OfType<string>();
        Assert.All(served, name => Assert.Contains(name, declared));
    }

    [Fact]
    public void EveryHttpEndpointIsReachableThroughAnHttpFunction()
    {
        var apiEndpoints = _endpoints.Where(e => e.RoutePattern.RawText?.TrimStart('/').StartsWith(RoutePrefix + "/", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(apiEndpoints);
        foreach (var endpoint in apiEndpoints)
        {
            var path = SamplePath(endpoint.RoutePattern);
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var method in methods)
                Assert.True(_manifest.Functions.Any(f => f.IsHttp && Covers(f, method, path)), $"{method} {path} is served but no HTTP function routes it.");
        }
    }

    [Fact]
    public void EveryHttpFunctionRoutesToAnEndpoint()
    {
        foreach (var function in _manifest.Functions.Where(f => f.IsHttp))
        {
            var prefix = "/" + RoutePrefix + "/" + function.Route!.Split('{')[0].TrimEnd('/');
            Assert.True(_endpoints.Any(e => SamplePath(e.RoutePattern).StartsWith(prefix, StringComparison.Ordinal)), $"Function {function.Name} routes {prefix}, which no endpoint serves.");
        }
    }

    [Fact]
    public void TheAdminApiIsDeclaredWithAdminAuthorization()
    {
        var manage = _manifest.Functions.Single(f => f.Route?.StartsWith("manage/", StringComparison.Ordinal) == true);
        Assert.Equal("admin", manage.AuthLevel);
    }

    [Fact]
    public void QueueFunctionsReadTheQueuesTheAppWrites()
    {
        var queues = typeof(Lumo.Core.Storage.QueueNames).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);
        Assert.Equal(queues.Order(), _manifest.Functions.Where(f => f.IsQueue).Select(f => f.QueueName!).Order());
    }

    private static bool Covers(FunctionDefinition function, string method, string path)
    {
        if (function.Methods.Count > 0 && !function.Methods.Contains(method)) return false;
        var template = TemplateParser.Parse(RoutePrefix + "/" + function.Route);
        return new TemplateMatcher(template, new RouteValueDictionary()).TryMatch(path, new RouteValueDictionary());
    }

    // A concrete path for a route pattern: every parameter filled with a sample value.
    private static string SamplePath(RoutePattern pattern) =>
        "/" + string.Join("/", pattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart => "sample",
            _ => "",
        }))));
}
