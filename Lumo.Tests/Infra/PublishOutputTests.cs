using Lumo.Tests.Infrastructure;

namespace Lumo.Tests.Infra;

/// <summary>`dotnet publish` of the function app yields a deployable function app root.</summary>
public sealed class PublishOutputTests
{
    [Fact]
    public async Task PublishOutputIsAFunctionAppRoot()
    {
        var output = Path.Combine(Path.GetTempPath(), "lumo-publish-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var (exit, log) = await Repository.RunAsync("dotnet", $"publish Lumo.Functions -c Release -o \"{output}\" --nologo", TimeSpan.FromMinutes(5));
            Assert.True(exit == 0, log);

            Assert.True(File.Exists(Path.Combine(output, "host.json")));
            Assert.True(File.Exists(Path.Combine(output, "Lumo.Functions.dll")));
            var declared = Directory.GetDirectories(Path.Combine(Repository.Root, "Lumo.Functions", "functions")).Select(Path.GetFileName).Order().ToList();
            var published = Directory.GetDirectories(output).Where(d => File.Exists(Path.Combine(d, "function.json"))).Select(Path.GetFileName).Order().ToList();
            Assert.NotEmpty(declared);
            Assert.Equal(declared, published);
            Assert.Contains("\"Lumo.Functions.dll\"", await File.ReadAllTextAsync(Path.Combine(output, "host.json")));
        }
        finally
        {
            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        }
    }
}
