using Lumo.Sandbox;

// The sandbox as its own process (local run, benchmarks): `dotnet run --project Lumo.Sandbox -- --urls http://127.0.0.1:7072`
var app = SandboxHost.Build(args);
if (app.Urls.Count == 0 && string.IsNullOrEmpty(app.Configuration["urls"]))
    app.Urls.Add("http://127.0.0.1:7072");
app.Run();
