#!/usr/bin/env bash
# Checks the deployment definition without touching Azure:
#   1. installs the Bicep CLI from the NuGet package Azure.Bicep.CommandLine.linux-x64
#      into .tools/bicep (once; later runs reuse it),
#   2. `bicep build` and `bicep lint` of infra/main.bicep: any warning or error fails,
#   3. infra/main.parameters.json names only parameters main.bicep declares and
#      covers every parameter without a default,
#   4. azure.yaml has the keys azd requires (name, services.<svc>.host/project/language), and a
#      .NET service's project folder holds one project file,
#   5. every trigger/binding connection named in functions/Nudge.App/Functions/*/function.json
#      (read from source, so no build is needed) is produced by the function app's
#      settings in the compiled ARM template, the runtime is dotnet-isolated 10.0, and the
#      settings hold no keys, no connection strings and no local-only switches.
# Prints one summary line; exits non-zero on any failure.
#
# Environment: BICEP_VERSION (default 0.49.2), BICEP (path to an existing bicep binary).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

bicep_version="${BICEP_VERSION:-0.49.2}"
tools_dir="$repo_root/.tools/bicep"
bicep_bin="${BICEP:-$tools_dir/$bicep_version/bicep}"

# Telemetry off and no registry calls: the template uses local modules only.
export BICEP_TRACING_ENABLED=false
# bicep is a .NET program; without ICU on the machine it runs in invariant mode.
if ! ldconfig -p 2>/dev/null | grep -q 'libicuuc\.so'; then
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
fi

install_bicep() {
  local work pkgs found
  echo "check-infra: installing Bicep CLI $bicep_version from NuGet (Azure.Bicep.CommandLine.linux-x64)" >&2
  work="$(mktemp -d)"
  # A throwaway project outside the repo, so the repo's Directory.*.props,
  # central package management and global.json don't apply to it.
  cat >"$work/bicep-download.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="[$bicep_version]" />
  </ItemGroup>
</Project>
EOF
  pkgs="$work/packages"
  if ! DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    dotnet restore "$work/bicep-download.csproj" --packages "$pkgs" \
      -p:ImportDirectoryBuildProps=false -p:ImportDirectoryPackagesProps=false >"$work/restore.log" 2>&1; then
    cat "$work/restore.log" >&2
    rm -rf "$work"
    echo "check-infra: FAILED — could not restore Azure.Bicep.CommandLine.linux-x64 $bicep_version" >&2
    exit 1
  fi
  found="$(find "$pkgs" -type f -name bicep -path '*tools*' | head -n 1)"
  if [[ -z "$found" ]]; then
    found="$(find "$pkgs" -type f -name bicep | head -n 1)"
  fi
  if [[ -z "$found" ]]; then
    rm -rf "$work"
    echo "check-infra: FAILED — the package holds no bicep binary" >&2
    exit 1
  fi
  # Copy next to the target, then rename: a concurrent or interrupted run never sees half a binary.
  mkdir -p "$(dirname "$bicep_bin")"
  local staged
  staged="$(dirname "$bicep_bin")/.bicep.$$.tmp"
  cp "$found" "$staged"
  chmod +x "$staged"
  mv -f "$staged" "$bicep_bin"
  rm -rf "$work"
}

if [[ ! -x "$bicep_bin" ]] || ! "$bicep_bin" --version >/dev/null 2>&1; then
  if [[ -n "${BICEP:-}" ]]; then
    echo "check-infra: FAILED — BICEP=$BICEP is not a working bicep binary" >&2
    exit 1
  fi
  install_bicep
fi
bicep_reported="$("$bicep_bin" --version 2>/dev/null | head -n 1)"

out_dir="$(mktemp -d)"
trap 'rm -rf "$out_dir"' EXIT

problems=0
fail() {
  echo "check-infra: $*" >&2
  problems=$((problems + 1))
}

# Runs a bicep command; any "Warning"/"Error" diagnostic or a non-zero exit is a failure.
run_bicep() {
  local label="$1"
  shift
  local log="$out_dir/$label.log" rc=0
  "$bicep_bin" "$@" >"$log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]] || grep -Eq ' : (Warning|Error) |^(Warning|Error)[ :]' "$log"; then
    sed 's/^/  /' "$log" >&2
    fail "bicep $label reported diagnostics (exit $rc)"
  fi
}

run_bicep build build infra/main.bicep --outdir "$out_dir"
run_bicep lint lint infra/main.bicep
# build and lint of main.bicep cover every module it uses, and the modules those
# use; a module nothing uses would escape them, so there must be none.
for module in infra/app/*.bicep; do
  users=(infra/main.bicep)
  for other in infra/app/*.bicep; do [[ "$other" != "$module" ]] && users+=("$other"); done
  if ! grep -Eq "^module [A-Za-z0-9_]+ '$(basename "$module")'|'app/$(basename "$module")'" "${users[@]}"; then
    fail "$module is not used by infra/main.bicep or its modules (unchecked module)"
  fi
done

template="$out_dir/main.json"
if [[ ! -s "$template" ]]; then
  fail "bicep build produced no infra/main.json"
  echo "check-infra: FAILED — $problems problem(s) (bicep: $bicep_reported)" >&2
  exit 1
fi

python_rc=0
python3 - "$template" "$repo_root" "$bicep_reported" "$problems" <<'PY' || python_rc=$?
import glob
import json
import os
import re
import sys

template_path, repo_root, bicep_reported = sys.argv[1], sys.argv[2], sys.argv[3]
bicep_problems = int(sys.argv[4])
problems = []


def problem(message):
    problems.append(message)
    print(f"check-infra: {message}", file=sys.stderr)


with open(template_path, encoding="utf-8") as f:
    template = json.load(f)

# ------------------------------------------------------------------ parameters file
with open(os.path.join(repo_root, "infra", "main.parameters.json"), encoding="utf-8") as f:
    parameters_file = json.load(f).get("parameters", {})
declared = template.get("parameters", {})
for name in parameters_file:
    if name not in declared:
        problem(f"infra/main.parameters.json sets '{name}', which main.bicep does not declare")
for name, spec in declared.items():
    if "defaultValue" not in spec and name not in parameters_file:
        problem(f"required parameter '{name}' is not mapped in infra/main.parameters.json")

# ------------------------------------------------------------------ azure.yaml


def parse_yaml_subset(text):
    """Parses the block-style YAML subset azure.yaml uses: nested mappings,
    '- item' sequences of scalars or mappings, quoted/plain scalars, comments.
    Flow collections, anchors and multi-line scalars are rejected."""
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise ValueError(f"line {number}: tab in indentation")
        stripped = strip_comment(raw).rstrip()
        if stripped.strip() == "" or stripped.strip() == "---":
            continue
        lines.append((number, len(stripped) - len(stripped.lstrip()), stripped.strip()))
    value, index = parse_block(lines, 0, 0)
    if index != len(lines):
        raise ValueError(f"line {lines[index][0]}: unexpected indentation")
    return value


def strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def scalar(token, number):
    token = token.strip()
    if token[:1] in "[{&*|>!":
        raise ValueError(f"line {number}: unsupported YAML construct '{token[:1]}'")
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    if token in ("true", "false"):
        return token == "true"
    return token


def parse_block(lines, index, indent):
    if index >= len(lines):
        return None, index
    number, col, content = lines[index]
    if content.startswith("- ") or content == "-":
        result = []
        while index < len(lines):
            number, col, content = lines[index]
            if col != indent or not (content.startswith("- ") or content == "-"):
                break
            item = content[1:].strip()
            if not item:
                value, index = parse_block(lines, index + 1, lines[index + 1][1] if index + 1 < len(lines) else indent + 2)
                result.append(value)
                continue
            if re.match(r"^[^'\"]*?:(\s|$)", item):
                # "- key: value" starts a mapping; re-read it as an indented block.
                lines[index] = (number, col + 2, item)
                value, index = parse_block(lines, index, col + 2)
                result.append(value)
                continue
            result.append(scalar(item, number))
            index += 1
        return result, index
    result = {}
    while index < len(lines):
        number, col, content = lines[index]
        if col < indent:
            break
        if col > indent:
            raise ValueError(f"line {number}: unexpected indentation")
        match = re.match(r"^(\"[^\"]*\"|'[^']*'|[^:]+?):(\s+(.*))?$", content)
        if not match:
            raise ValueError(f"line {number}: expected 'key: value'")
        key = scalar(match.group(1), number)
        rest = (match.group(3) or "").strip()
        if key in result:
            raise ValueError(f"line {number}: duplicate key '{key}'")
        if rest:
            result[key] = scalar(rest, number)
            index += 1
        elif index + 1 < len(lines) and lines[index + 1][1] > col:
            result[key], index = parse_block(lines, index + 1, lines[index + 1][1])
        elif index + 1 < len(lines) and lines[index + 1][1] == col and lines[index + 1][2].startswith("-"):
            result[key], index = parse_block(lines, index + 1, col)
        else:
            result[key] = None
            index += 1
    return result, index


azure_yaml_path = os.path.join(repo_root, "azure.yaml")
services = {}
try:
    with open(azure_yaml_path, encoding="utf-8") as f:
        azure_yaml = parse_yaml_subset(f.read())
except FileNotFoundError:
    azure_yaml = None
    problem("azure.yaml is missing")
except ValueError as error:
    azure_yaml = None
    problem(f"azure.yaml: {error}")

function_projects = []  # .NET projects azure.yaml deploys to a function app
known_hosts = {"appservice", "containerapp", "function", "springapp", "staticwebapp", "aks"}
known_languages = {"dotnet", "csharp", "fsharp", "py", "python", "js", "ts", "java", "go", "golang", "docker", "custom"}
if isinstance(azure_yaml, dict):
    name = azure_yaml.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) or len(name) < 2:
        problem("azure.yaml: 'name' must be 2+ lowercase letters, digits or hyphens")
    services = azure_yaml.get("services")
    if not isinstance(services, dict) or not services:
        problem("azure.yaml: 'services' must map at least one service")
        services = {}
    for svc, config in services.items():
        where = f"azure.yaml: services.{svc}"
        if not isinstance(config, dict):
            problem(f"{where} must be a mapping")
            continue
        host = config.get("host")
        if host not in known_hosts:
            problem(f"{where}.host must be one of {sorted(known_hosts)}")
        for key in ("project", "language"):
            if not isinstance(config.get(key), str) or not config.get(key):
                problem(f"{where}.{key} is required")
        project = config.get("project") if isinstance(config.get("project"), str) else None
        if project and not os.path.isdir(os.path.join(repo_root, project)):
            problem(f"{where}.project '{project}' is not a folder")
        language = config.get("language")
        if isinstance(language, str) and language not in known_languages:
            problem(f"{where}.language '{language}' is not one azd knows")
        if language == "custom" and not config.get("dist"):
            problem(f"{where}: language 'custom' needs 'dist'")
        if language in ("dotnet", "csharp", "fsharp") and project:
            # azd publishes the one project file it finds in the folder (or the file named).
            project_path = os.path.join(repo_root, project)
            project_files = [project_path] if os.path.isfile(project_path) else \
                glob.glob(os.path.join(project_path, "*.??proj"))
            if len(project_files) != 1:
                problem(f"{where}.project '{project}' must hold exactly one .NET project file, found {len(project_files)}")
            elif host == "function":
                function_projects.append(project_files[0])
        if host == "function" and ("image" in config or "docker" in config):
            problem(f"{where}: host 'function' takes no image/docker")
    hook_sets = [("azure.yaml: hooks", azure_yaml.get("hooks"), repo_root)]
    for svc, config in services.items():
        if isinstance(config, dict):
            base = os.path.join(repo_root, config.get("project") or ".")
            hook_sets.append((f"azure.yaml: services.{svc}.hooks", config.get("hooks"), base))
    for where, hooks, base in hook_sets:
        if hooks is None:
            continue
        if not isinstance(hooks, dict):
            problem(f"{where} must be a mapping")
            continue
        for event, hook in hooks.items():
            entries = []
            if isinstance(hook, dict):
                entries.append(hook)
                entries.extend(v for k, v in hook.items() if k in ("posix", "windows") and isinstance(v, dict))
            for entry in entries:
                run = entry.get("run")
                if isinstance(run, str) and re.fullmatch(r"[\w./-]+\.sh", run):
                    script = os.path.normpath(os.path.join(base, run))
                    if not os.path.isfile(script):
                        problem(f"{where}.{event} runs '{run}', which does not exist")
                    elif not os.access(script, os.X_OK) and entry.get("shell") != "sh":
                        problem(f"{where}.{event} runs '{run}', which is not executable")
    infra = azure_yaml.get("infra") if isinstance(azure_yaml.get("infra"), dict) else {}
    infra_main = os.path.join(repo_root, infra.get("path") or "infra", (infra.get("module") or "main") + ".bicep")
    if not os.path.isfile(infra_main):
        problem(f"azure.yaml: infra module {os.path.relpath(infra_main, repo_root)} does not exist")

# ------------------------------------------------------------------ app settings in the compiled template
PARAM_REF = re.compile(r"^\[parameters\('([^']+)'\)\]$")


def walk(template_node, parameter_values, path):
    """Yields (resource, parameter_values, path) for every resource, descending into
    nested deployments (modules) with the parameter values the parent passes in."""
    resources = template_node.get("resources", [])
    if isinstance(resources, dict):  # symbolic-name templates (languageVersion 2.0)
        resources = list(resources.values())
    for resource in resources:
        yield resource, parameter_values, path
        if resource.get("type", "").lower() == "microsoft.resources/deployments":
            props = resource.get("properties", {})
            inner = props.get("template")
            if isinstance(inner, dict):
                # Start from the module's own literal defaults, then apply what the parent passes.
                passed = {
                    key: spec["defaultValue"]
                    for key, spec in (inner.get("parameters") or {}).items()
                    if isinstance(spec, dict) and "defaultValue" in spec
                    and not (isinstance(spec["defaultValue"], str) and spec["defaultValue"].startswith("["))
                }
                for key, spec in (props.get("parameters") or {}).items():
                    if isinstance(spec, dict) and "value" in spec:
                        passed[key] = resolve(spec["value"], parameter_values)  # a module passing its own parameter on
                name = resource.get("name")
                yield from walk(inner, passed, path + [str(name)])


UNION_OF_PARAMS = re.compile(r"^\[union\((parameters\('[^']+'\)(?:, *parameters\('[^']+'\))*)\)\]$")


def resolve(value, parameter_values):
    if isinstance(value, str):
        match = PARAM_REF.match(value)
        if match and match.group(1) in parameter_values:
            return parameter_values[match.group(1)]
        # union(parameters('a'), parameters('b')): the literal objects merged, later ones winning; a parameter
        # that is itself an expression (the settings already on the app, read with list()) adds nothing here.
        union = UNION_OF_PARAMS.match(value)
        if union:
            merged = {}
            for name in re.findall(r"parameters\('([^']+)'\)", union.group(1)):
                part = parameter_values.get(name)
                if isinstance(part, dict):
                    merged.update(part)
            return merged
    return value


sites, settings_blocks = [], []
for resource, parameter_values, path in walk(template, {}, []):
    kind = resource.get("type", "").lower()
    if kind == "microsoft.web/sites":
        sites.append((resource, parameter_values, path))
    elif kind == "microsoft.web/sites/config" and "appsettings" in str(resource.get("name", "")).lower():
        settings_blocks.append((resource, parameter_values, path))

settings = {}
function_sites = [s for s in sites if "functionapp" in str(resolve(s[0].get("kind", ""), s[1])).lower()]
if len(function_sites) != 1:
    problem(f"expected exactly one function app (Microsoft.Web/sites, kind functionapp) in the template, found {len(function_sites)}")
if len(settings_blocks) != 1:
    problem(f"expected exactly one appsettings config resource for the function app, found {len(settings_blocks)}")
else:
    resource, parameter_values, path = settings_blocks[0]
    props = resolve(resource.get("properties"), parameter_values)
    if isinstance(props, dict):
        settings = props
    else:
        problem("the appsettings resource's properties are an expression this check cannot read; "
                "pass a literal object of settings (keys must be visible in the compiled template)")

runtime_name = runtime_version = None
if function_sites:
    site, parameter_values, path = function_sites[0]
    site_props = site.get("properties", {})
    config = resolve(site_props.get("functionAppConfig"), parameter_values)
    if isinstance(config, str) and config.startswith("["):
        # e.g. [if(empty(parameters('x')), null(), parameters('x'))] – look the object up directly.
        match = re.search(r"parameters\('([^']+)'\)", config)
        config = parameter_values.get(match.group(1)) if match else None
    if isinstance(config, dict):
        runtime = config.get("runtime") or {}
        if isinstance(runtime, dict):
            runtime_name, runtime_version = runtime.get("name"), runtime.get("version")

# Nudge.App is a .NET 10 isolated-worker app (Microsoft.Azure.Functions.Worker).
EXPECTED_RUNTIME = ("dotnet-isolated", "10.0")
worker_setting = settings.get("FUNCTIONS_WORKER_RUNTIME")
if runtime_name is not None:
    if (runtime_name, runtime_version) != EXPECTED_RUNTIME:
        problem(f"functionAppConfig.runtime is {runtime_name!r} {runtime_version!r}, "
                f"expected {EXPECTED_RUNTIME[0]!r} {EXPECTED_RUNTIME[1]!r}")
    if worker_setting is not None:
        problem("FUNCTIONS_WORKER_RUNTIME is set as an app setting on a Flex Consumption app; "
                "Flex takes the runtime from functionAppConfig.runtime and rejects the setting")
    worker_runtime = f"{runtime_name} {runtime_version}"
else:
    problem("the function app declares no functionAppConfig.runtime (Flex Consumption needs it)")
    worker_runtime = "none"

# Settings the app reads in Azure (see docs/deployment.md).
required_settings = [
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "Shopify__WebhookSecret",
    "Nudge__MarketerApiKey",
    "Nudge__DefaultTimeZone",
    # The Durable Functions task hub (host.json: extensions.durableTask.hubName).
    "NUDGE_TASK_HUB",
    "Nudge__Email__AcsEndpoint",
    "Nudge__Email__SenderAddress",
    # With an email provider configured the channel settings are required at start-up.
    "Nudge__Channels__SenderName",
    "Nudge__Channels__OptOutNumber",
    "Nudge__Channels__PublicBaseUrl",
    "Nudge__Channels__LinkSecret",
    "Nudge__Channels__CallbackKey",
]
for name in required_settings:
    if name not in settings:
        problem(f"app setting '{name}' (read by the app) is not produced by the Bicep")

# Local-only switches and settings Flex Consumption deprecates must not be set.
forbidden_settings = {
    "NUDGE_CLOCK_SPEED": "virtual-time switch for local demos only",
    "Nudge__Storage__Prefix": "test isolation prefix, local only",
    "AzureWebJobsStorage": "a connection string; Azure uses the identity-based AzureWebJobsStorage__* settings",
    "WEBSITE_RUN_FROM_PACKAGE": "deprecated on Flex Consumption",
    "WEBSITE_CONTENTSHARE": "deprecated on Flex Consumption",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": "a connection string, deprecated on Flex Consumption",
    "FUNCTIONS_EXTENSION_VERSION": "set by the platform on Flex Consumption",
    "FUNCTIONS_WORKER_RUNTIME_VERSION": "deprecated on Flex Consumption",
    "SCM_DO_BUILD_DURING_DEPLOYMENT": "deprecated on Flex Consumption",
    "ENABLE_ORYX_BUILD": "deprecated on Flex Consumption",
    "APPINSIGHTS_INSTRUMENTATIONKEY": "key-based telemetry; local auth is off",
    "FUNCTIONS_CUSTOMHANDLER_PORT": "a custom handler's port, set by the host; the isolated worker has none",
}
for name, why in forbidden_settings.items():
    if name in settings:
        problem(f"app setting '{name}' must not be set in Azure ({why})")

secret_name = re.compile(r"(secret|password|apikey|api_key|token|callbackkey)", re.IGNORECASE)
for name, value in settings.items():
    text = json.dumps(value)
    if re.search(r"AccountKey=|SharedAccessKey|SharedAccessSignature|listKeys\(|listkeys\(", text):
        problem(f"app setting '{name}' carries a key or connection string")
    if name != "APPLICATIONINSIGHTS_CONNECTION_STRING" and re.search(r"connectionstring", name, re.IGNORECASE):
        problem(f"app setting '{name}' looks like a connection string")
    if secret_name.search(name.replace("__", "")) and "@Microsoft.KeyVault(" not in text:
        problem(f"app setting '{name}' looks secret but is not a Key Vault reference")
    if name.endswith("__credential") and value == "managedidentity":
        prefix = name[: -len("__credential")]
        if f"{prefix}__clientId" not in settings:
            problem(f"'{name}' is managedidentity but '{prefix}__clientId' (the user-assigned identity) is missing")
if re.search(r"listKeys\(|listkeys\(", json.dumps(template)):
    problem("the template calls listKeys(); no keys may flow into the deployment")

# ------------------------------------------------------------------ function.json connections
SERVICE_SUFFIX = {"queue": "queueServiceUri", "blob": "blobServiceUri", "table": "tableServiceUri"}
STORAGE_BINDINGS = {"queuetrigger": "queue", "queue": "queue", "blobtrigger": "blob", "blob": "blob", "table": "table"}

function_files = sorted(glob.glob(os.path.join(repo_root, "functions", "Nudge.App", "Functions", "*", "function.json")))
if not function_files:
    problem("no functions/Nudge.App/Functions/*/function.json found")
connections_checked = set()
for path in function_files:
    rel = os.path.relpath(path, repo_root)
    try:
        with open(path, encoding="utf-8-sig") as f:
            spec = json.load(f)
    except (OSError, ValueError) as error:
        problem(f"{rel}: not valid JSON ({error})")
        continue
    for binding in spec.get("bindings", []):
        binding_type = str(binding.get("type", "")).lower()
        service = STORAGE_BINDINGS.get(binding_type)
        connection = binding.get("connection")
        if connection is None and service:
            connection = "AzureWebJobsStorage"  # the host's default for storage bindings
        if connection:
            connections_checked.add(connection)
            candidates = [connection, f"{connection}__serviceUri", f"{connection}__accountName"]
            if service:
                candidates.append(f"{connection}__{SERVICE_SUFFIX[service]}")
            else:
                candidates += [f"{connection}__{suffix}" for suffix in SERVICE_SUFFIX.values()]
                candidates.append(f"{connection}__fullyQualifiedNamespace")
            if not any(c in settings for c in candidates):
                problem(f"{rel}: binding '{binding.get('name')}' ({binding.get('type')}) uses connection "
                        f"'{connection}', but the app settings define none of {candidates}")
        # %Name% expressions are resolved from app settings by the host.
        for key, value in binding.items():
            if isinstance(value, str):
                for setting in re.findall(r"%([^%]+)%", value):
                    if setting not in settings:
                        problem(f"{rel}: binding '{binding.get('name')}' property '{key}' needs app setting '{setting}'")

# The host itself needs blob storage (keys, timer and singleton locks) even without storage bindings.
if not any(s in settings for s in ("AzureWebJobsStorage", "AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__accountName")):
    problem("the Functions host storage (AzureWebJobsStorage__blobServiceUri) is not configured")

# ------------------------------------------------------------------ identity, roles, tags
template_text = json.dumps(template)
expected_roles = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "09976791-48a7-449e-bb21-39d1a415f350": "Communication and Email Service Owner",
}
for role_id, role_name in expected_roles.items():
    if role_id not in template_text:
        problem(f"no role assignment for {role_name} ({role_id})")
for svc in services:
    if not re.search(r"azd-service-name['\"]?\s*[:,]\s*['\"]" + re.escape(svc) + r"['\"]", template_text):
        problem(f"no resource carries the tag azd-service-name = '{svc}' (azure.yaml service)")
if "azd-env-name" not in template_text:
    problem("resources are not tagged azd-env-name")
for output in template.get("outputs", {}):
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", output):
        problem(f"output '{output}' is not UPPER_SNAKE_CASE")

total = len(problems) + bicep_problems
status = "OK" if not total else f"FAILED — {total} problem(s)"
bicep_state = "build+lint clean" if not bicep_problems else f"{bicep_problems} build/lint failure(s)"
print(
    f"check-infra: {status} — {bicep_reported}: {bicep_state}; azure.yaml {len(services)} service(s); "
    f"{len(function_files)} function.json, connections checked {sorted(connections_checked)}; "
    f"runtime {worker_runtime}; {len(settings)} app settings",
    file=sys.stderr if total else sys.stdout,
)
sys.exit(1 if total else 0)
PY

# python3 printed the summary line; a non-zero code means something failed
# (or the checker itself crashed, which its traceback shows).
if [[ $python_rc -ne 0 || $problems -gt 0 ]]; then
  exit 1
fi
