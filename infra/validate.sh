#!/usr/bin/env bash
# Compiles and lints infra/main.bicep with the Bicep CLI from its NuGet package (restored with the test project).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's:.*<BicepVersion>\(.*\)</BicepVersion>.*:\1:p' Lumo.Tests/Lumo.Tests.csproj)
dotnet restore Lumo.Tests --nologo -v quiet
bicep="${NUGET_PACKAGES:-$HOME/.nuget/packages}/azure.bicep.commandline.linux-x64/$version/tools/bicep"
chmod +x "$bicep"
"$bicep" build infra/main.bicep --outfile "${TMPDIR:-/tmp}/lumo-main.json"
"$bicep" lint infra/main.bicep
echo "Bicep $version: infra/main.bicep builds and lints clean"
