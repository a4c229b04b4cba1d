namespace Lumo.Sandbox;

/// <summary>
/// The sandbox as its own process (local run, benchmarks):
/// <c>dotnet run --project Lumo.Sandbox -- --urls http://127.0.0.1:7072</c>.
/// </summary>
public static class SandboxProgram
{
    public static void Main(string[] args)
    {
        var app = SandboxHost.Build(args.Where(a => a != "--seed-demo").ToArray());
        if (args.Contains("--seed-demo"))
            Control.DemoSeed.Seed(app.Services.GetRequiredService<SandboxHost.Services>());
        if (string.IsNullOrEmpty(app.Configuration["urls"]))
            app.Urls.Add("http://127.0.0.1:7072");
        app.Run();
    }
}
