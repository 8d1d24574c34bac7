#!/usr/bin/env bash
# Checks the deployment definition without touching Azure:
#   1. installs the Bicep CLI from the NuGet package Azure.Bicep.CommandLine.linux-x64
#      into .tools/bicep (once; later runs reuse it),
#   2. `bicep build` and `bicep lint` of infra/main.bicep: any warning or error fails; and for each
#      delivery transport (deliveryTransport = storage | servicebus) a parameters file built
#      (`bicep build-params`) and linted against it,
#   3. infra/main.parameters.json names only parameters main.bicep declares and
#      covers every parameter without a default,
#   4. azure.yaml has the keys azd requires (name, services.<svc>.host/project/language), and a
#      .NET service's project folder holds one project file,
#   5. the function app in the compiled ARM template: runtime dotnet-isolated 10.0 (Flex Consumption's
#      functionAppConfig.runtime, no FUNCTIONS_WORKER_RUNTIME setting), the settings the app reads,
#      no keys, connection strings or local-only switches in them, the role assignments (six, and
#      the two Service Bus data roles),
#   6. the app against those settings, read from source so no build is needed, once per delivery
#      transport with the settings that choice produces (the compiled template's expressions are
#      evaluated where they need no Azure: parameters, variables, if, union, toObject ...): every Connection
#      (or, for storage, the default AzureWebJobsStorage) and %Setting% named in a trigger/binding
#      attribute in the function app's C# files and in host.json is an app setting; Durable
#      Functions' task hub connection has blob, queue and table; the task hub name (NUDGE_TASK_HUB)
#      is 3-45 letters and digits starting with a letter; once Nudge.App references the Worker SDK,
#      host.json has no customHandler or extensionBundle and no function.json is left. A function
#      disabled by AzureWebJobs.<name>.Disabled needs no settings; the other transport's channel
#      senders must be disabled and the chosen one's not (Service Bus needs its identity-based
#      ServiceBusConnection__* settings and the Data Sender/Receiver roles).
# Prints one summary line per delivery transport (and a note while Nudge.App is still a custom handler); exits
# non-zero on any failure.
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

# Each delivery transport (main.bicep's deliveryTransport) is a parameters file of its own: built and linted
# against the template (the choice must be an allowed value), and the app settings checked as that choice sets them.
transport_choices=(storage servicebus)
for choice in "${transport_choices[@]}"; do
  cat >"$out_dir/$choice.bicepparam" <<EOF
using '$(realpath --relative-to="$out_dir" "$repo_root/infra/main.bicep")'

param environmentName = 'check'
param location = 'koreacentral'
param shopifyWebhookSecret = readEnvironmentVariable('CHECK_INFRA_UNSET', 'unused-secret')
param marketerApiKey = readEnvironmentVariable('CHECK_INFRA_UNSET', 'unused-secret')
param senderName = 'Nudge'
param optOutNumber = '080-000-0000'
param linkSecret = readEnvironmentVariable('CHECK_INFRA_UNSET', 'unused-secret')
param callbackKey = readEnvironmentVariable('CHECK_INFRA_UNSET', 'unused-secret')
param deliveryTransport = '$choice'
EOF
  run_bicep "build-params-$choice" build-params "$out_dir/$choice.bicepparam" --outfile "$out_dir/$choice.parameters.json"
  run_bicep "lint-params-$choice" lint "$out_dir/$choice.bicepparam"
done

python_rc=0
check_settings() {
python3 - "$template" "$repo_root" "$bicep_reported" "$problems" "$1" <<'PY'
import glob
import json
import os
import re
import sys

template_path, repo_root, bicep_reported = sys.argv[1], sys.argv[2], sys.argv[3]
bicep_problems, choice = int(sys.argv[4]), sys.argv[5]
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


class Opaque(str):
    """A value known only in Azure (a reference(), a resource id, ...): kept as its expression text, so the
    checks on a setting's text (Key Vault references, keys) still read it."""


def tokenize(text):
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "'":
            j, out = i + 1, []
            while j < len(text):
                if text[j] == "'" and text[j + 1:j + 2] == "'":
                    out.append("'")
                    j += 2
                elif text[j] == "'":
                    break
                else:
                    out.append(text[j])
                    j += 1
            tokens.append(("str", "".join(out)))
            i = j + 1
        elif ch.isdigit() or (ch == "-" and text[i + 1:i + 2].isdigit()):
            j = i + 1
            while j < len(text) and text[j].isdigit():
                j += 1
            tokens.append(("num", int(text[i:j])))
            i = j
        elif ch.isalpha() or ch == "_":
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] in "_"):
                j += 1
            tokens.append(("name", text[i:j]))
            i = j
        else:
            tokens.append(("op", ch))
            i += 1
    return tokens


def parse_expression(tokens, k=0):
    """An ARM template expression as a tree: ('lit', v) | ('call', name, [args]) | ('prop', node, key) | ('index', node, node)."""
    kind, value = tokens[k]
    if kind in ("str", "num"):
        node, k = ("lit", value), k + 1
    elif kind == "name":
        k += 1
        args = []
        if k < len(tokens) and tokens[k] == ("op", "("):
            k += 1
            while tokens[k] != ("op", ")"):
                arg, k = parse_expression(tokens, k)
                args.append(arg)
                if tokens[k] == ("op", ","):
                    k += 1
            k += 1
        node = ("call", value.lower(), args)
    else:
        raise ValueError(f"unexpected {value!r}")
    while k < len(tokens) and tokens[k] in (("op", "."), ("op", "[")):
        if tokens[k] == ("op", "."):
            node, k = ("prop", node, tokens[k + 1][1]), k + 2
        else:
            index, k = parse_expression(tokens, k + 1)
            node, k = ("index", node, index), k + 1
    return node, k


class Scope:
    """What an expression may read: the template's parameters and variables (nested deployments have their own)."""

    def __init__(self, parameters, variables):
        self.parameters, self.variables, self.lambdas, self.evaluating = parameters, variables, {}, set()


def evaluate_arm(text, scope):
    """The value of an ARM expression string ("[...]") where it can be known without Azure; an Opaque otherwise."""
    try:
        node, k = parse_expression(tokenize(text[1:-1]))
    except (ValueError, IndexError):
        return Opaque(text)
    return run(node, scope, text)


def known(value):
    return not isinstance(value, Opaque)


def run(node, scope, text):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind in ("prop", "index"):
        base = run(node[1], scope, text)
        key = node[2] if kind == "prop" else run(node[2], scope, text)
        if isinstance(base, dict) and key in base:
            return base[key]
        if isinstance(base, list) and isinstance(key, int) and 0 <= key < len(base):
            return base[key]
        return Opaque(text)
    name, args = node[1], node[2]
    value = lambda i: run(args[i], scope, text)
    if name == "if":
        condition = value(0)
        return value(1) if condition is True else value(2) if condition is False else Opaque(text)
    if name == "parameters":
        return scope.parameters.get(value(0), Opaque(text))
    if name == "variables":
        variable = value(0)
        if variable in scope.evaluating or variable not in scope.variables:
            return Opaque(text)  # a copy loop, say: known only in Azure here
        scope.evaluating.add(variable)
        try:
            return deep_evaluate(scope.variables[variable], scope)
        finally:
            scope.evaluating.discard(variable)
    if name == "lambdavariables":
        return scope.lambdas.get(value(0), Opaque(text))
    if name == "lambda":
        return ("lambda", [run(a, scope, text) for a in args[:-1]], args[-1])
    if name in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[name]
    values = [value(i) for i in range(len(args))]
    if name == "createobject":  # the keys must be known; a value may be known in Azure only
        keys = values[0::2]
        return {k: v for k, v in zip(keys, values[1::2])} if all(isinstance(k, str) and known(k) for k in keys) else Opaque(text)
    if not all(known(v) for v in values) and name not in ("coalesce", "union", "createarray"):
        return Opaque(text)
    if name == "equals":
        return values[0] == values[1]
    if name == "not":
        return not values[0]
    if name == "and":
        return all(values)
    if name == "or":
        return any(values)
    if name == "empty":
        return not values[0]
    if name == "createarray":
        return list(values)
    if name == "union":
        if all(isinstance(v, dict) for v in values if known(v)) and any(known(v) for v in values):
            merged = {}
            for v in values:
                if isinstance(v, dict):
                    merged.update(v)  # a part known only in Azure (the settings already on the app) adds nothing here
            return merged
        return Opaque(text)
    if name == "coalesce":
        for v in values:
            if not known(v):
                return Opaque(text)
            if v is not None:
                return v
        return None
    if name == "format":
        return re.sub(r"\{(\d+)\}", lambda m: str(values[1 + int(m.group(1))]), values[0])
    if name == "concat":
        return sum(values, []) if all(isinstance(v, list) for v in values) else "".join(str(v) for v in values)
    if name == "tolower":
        return values[0].lower()
    if name == "toobject":
        items, key_fn = values[0], values[1]
        value_fn = values[2] if len(values) > 2 else None

        def call(fn, item):
            inner = Scope(scope.parameters, scope.variables)
            inner.lambdas, inner.evaluating = dict(scope.lambdas, **{fn[1][0]: item}), scope.evaluating
            return run(fn[2], inner, text)

        return {call(key_fn, item): (call(value_fn, item) if value_fn else item) for item in items}
    return Opaque(text)  # reference(), resourceId(), subscription() ...: known in Azure only


def deep_evaluate(value, scope):
    if isinstance(value, Opaque):
        return value  # evaluated already, where it was written
    if isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[["):
        return evaluate_arm(value, scope)
    if isinstance(value, dict):
        return {k: deep_evaluate(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_evaluate(v, scope) for v in value]
    return value


def walk(template_node, scope, path):
    """Yields (resource, scope, path) for every resource, descending into nested deployments (modules) with the
    parameter values the parent passes in, evaluated in the parent's scope."""
    resources = template_node.get("resources", [])
    if isinstance(resources, dict):  # symbolic-name templates (languageVersion 2.0)
        resources = list(resources.values())
    for resource in resources:
        yield resource, scope, path
        if resource.get("type", "").lower() == "microsoft.resources/deployments":
            props = resource.get("properties", {})
            inner = props.get("template")
            if isinstance(inner, dict):
                passed = {}
                for key, spec in (props.get("parameters") or {}).items():
                    spec = deep_evaluate(spec, scope) if isinstance(spec, str) else spec
                    if isinstance(spec, dict) and "value" in spec:
                        passed[key] = deep_evaluate(spec["value"], scope)
                inner_scope = Scope(passed, inner.get("variables") or {})
                for key, spec in (inner.get("parameters") or {}).items():
                    if key not in passed and isinstance(spec, dict) and "defaultValue" in spec:
                        passed[key] = deep_evaluate(spec["defaultValue"], inner_scope)  # a default may read the module's own
                yield from walk(inner, inner_scope, path + [str(resource.get("name"))])


def resolve(value, scope):
    return deep_evaluate(value, scope)


# The top-level parameters: the transport choice this run checks, the other parameters at their literal defaults.
top_parameters = {
    name: spec["defaultValue"] for name, spec in declared.items()
    if isinstance(spec, dict) and "defaultValue" in spec
    and not (isinstance(spec["defaultValue"], str) and spec["defaultValue"].startswith("["))
}
transport_spec = declared.get("deliveryTransport") or {}
transport_choices = transport_spec.get("allowedValues") or []
if sorted(transport_choices) != ["servicebus", "storage"] or transport_spec.get("defaultValue") != "storage":
    problem("main.bicep parameter 'deliveryTransport' must allow 'storage' (the default) and 'servicebus'")
if choice not in transport_choices:
    problem(f"deliveryTransport '{choice}' is not an allowed value of main.bicep's parameter")
top_parameters["deliveryTransport"] = choice
top_scope = Scope(top_parameters, template.get("variables") or {})

sites, settings_blocks = [], []
for resource, parameter_values, path in walk(template, top_scope, []):
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
        config = parameter_values.parameters.get(match.group(1)) if match else None
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
    if secret_name.search(name.replace("__", "")) and value != "" and "@Microsoft.KeyVault(" not in text:
        problem(f"app setting '{name}' looks secret but is not a Key Vault reference")
    if name.endswith("__credential") and value == "managedidentity":
        prefix = name[: -len("__credential")]
        if f"{prefix}__clientId" not in settings:
            problem(f"'{name}' is managedidentity but '{prefix}__clientId' (the user-assigned identity) is missing")
if re.search(r"listKeys\(|listkeys\(", json.dumps(template)):
    problem("the template calls listKeys(); no keys may flow into the deployment")

# ------------------------------------------------------------------ the app's bindings: C# attributes and host.json
# The Worker SDK writes functions.metadata from the [Function] methods' attributes at build time;
# reading the attributes from source checks the same names without a build.
SERVICE_SUFFIX = {"queue": "queueServiceUri", "blob": "blobServiceUri", "table": "tableServiceUri"}
# Storage attributes without a Connection use AzureWebJobsStorage.
STORAGE_ATTRIBUTES = {
    "QueueTrigger": "queue", "QueueOutput": "queue",
    "BlobTrigger": "blob", "BlobInput": "blob", "BlobOutput": "blob",
    "TableInput": "table", "TableOutput": "table",
}
DURABLE_ATTRIBUTES = {"OrchestrationTrigger", "ActivityTrigger", "EntityTrigger", "DurableClient"}
KNOWN_BINDING_ATTRIBUTES = set(STORAGE_ATTRIBUTES) | DURABLE_ATTRIBUTES | {
    "HttpTrigger", "TimerTrigger", "ServiceBusTrigger", "ServiceBusOutput", "EventHubTrigger", "EventHubOutput",
    "EventGridTrigger", "EventGridOutput", "CosmosDBTrigger", "CosmosDBInput", "CosmosDBOutput",
}
TASK_HUB_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,44}")  # Durable Functions' rule for task hub names
PLACEHOLDER = re.compile(r"%([^%]+)%")  # app settings the host substitutes into binding properties


def literal_end(text, i):
    """Index just past the C# literal that starts at i: a string (regular, verbatim @, raw
    triple-quoted) or a char."""
    if text.startswith('"""', i):
        j = text.find('"""', i + 3)
        return len(text) if j < 0 else j + 3
    if text.startswith('@"', i):
        j = i + 2
        while j < len(text):
            if text.startswith('""', j):
                j += 2
            elif text[j] == '"':
                return j + 1
            else:
                j += 1
        return j
    quote, j = text[i], i + 1
    while j < len(text) and text[j] != quote and text[j] != "\n":
        j += 2 if text[j] == "\\" else 1
    return j + 1


def is_literal_start(text, i):
    return text[i] in "\"'" or text.startswith('@"', i)


def strip_csharp_comments(text):
    """The source with comments blanked out and literals kept, so that a commented-out
    attribute is not read and '//' inside a string is not taken for a comment."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            out.append(" " + "\n" * text.count("\n", i, len(text) if j < 0 else j))  # keeps line numbers
            i = len(text) if j < 0 else j + 2
        elif is_literal_start(text, i):
            j = literal_end(text, i)
            out.append(text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def mask_literals(text):
    """The text with every literal's content replaced by spaces (same length, so offsets hold):
    an attribute written inside a string is not read as one."""
    out, i = [], 0
    while i < len(text):
        if is_literal_start(text, i):
            j = literal_end(text, i)
            out.append(text[i] + " " * (j - i - 2) + text[j - 1] if j - i >= 2 else text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def argument_list(text, start):
    """The arguments between the '(' just before `start` and the parenthesis that closes it,
    split on their top-level commas."""
    parts, current, depth, i = [], [], 1, start
    while i < len(text):
        if is_literal_start(text, i):
            j = literal_end(text, i)
            current.append(text[i:j])
            i = j
            continue
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                break
        if ch == "," and depth == 1:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    last = "".join(current).strip()
    return parts + ([last] if last else [])


TOKEN = re.compile(r'@"(?:[^"]|"")*"|"(?:[^"\\\n]|\\.)*"|nameof\(\s*[\w.]+\s*\)|[\w.]+|\S')
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


def evaluate(expression, constants, depth=0):
    """The string a C# constant expression stands for: literals, nameof(X), const string fields
    (by their simple name) and '+' of those; None when it is anything else (an enum value, say).
    Attribute arguments are compile-time constants, so this covers what a binding can name."""
    tokens = TOKEN.findall(expression.strip())
    if depth > 8 or not tokens or len(tokens) % 2 == 0 or any(t != "+" for t in tokens[1::2]):
        return None
    values = []
    for token in tokens[::2]:
        if token.startswith('@"'):
            values.append(token[2:-1].replace('""', '"'))
        elif token.startswith('"'):
            values.append(re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), token[1:-1]))
        elif token.startswith("nameof("):
            values.append(token[7:-1].strip().split(".")[-1])
        elif re.fullmatch(r"[A-Za-z_][\w.]*", token) and token.split(".")[-1] in constants:
            value = evaluate(constants[token.split(".")[-1]], constants, depth + 1)
            if value is None:
                return None
            values.append(value)
        else:
            return None
    return "".join(values)


def connection_settings(connection, services):
    """App settings any one of which makes `connection` usable for the given storage services:
    a connection string, an account name, or (identity-based) each service's URI."""
    options = [[connection], [f"{connection}__accountName"], [f"{connection}__serviceUri"]]
    options.append([f"{connection}__{SERVICE_SUFFIX[s]}" for s in services])
    return options


def connection_defined(connection, services):
    return any(all(name in settings for name in option) for option in connection_settings(connection, services))


task_hub_settings_checked = set()


def check_task_hub_setting(setting, where):
    """The setting's value must be a valid task hub name; when it is a main.bicep parameter,
    its length limits, its default and the default main.parameters.json gives are checked."""
    if setting in task_hub_settings_checked or setting not in settings:
        return None  # checked already, or reported as a missing setting
    task_hub_settings_checked.add(setting)
    value = settings.get(setting)
    match = PARAM_REF.match(value) if isinstance(value, str) else None
    if not match:
        if not isinstance(value, str) or not TASK_HUB_NAME.fullmatch(value):
            problem(f"{where}: app setting '{setting}' ({value!r}) is not a task hub name "
                    "(3-45 letters and digits, starting with a letter)")
        return value
    name = match.group(1)
    spec = declared.get(name, {})
    if spec.get("minLength", 0) < 3 or spec.get("maxLength", 10**6) > 45:
        problem(f"main.bicep parameter '{name}' (task hub, {setting}) needs @minLength(3) and @maxLength(45)")
    defaults = [("main.bicep default", spec.get("defaultValue"))]
    mapped = str((parameters_file.get(name) or {}).get("value", ""))
    azd_default = re.fullmatch(r"\$\{\w+=([^}]*)\}", mapped)
    if azd_default:
        defaults.append(("main.parameters.json default", azd_default.group(1)))
    for label, default in defaults:
        if default is not None and not (isinstance(default, str) and TASK_HUB_NAME.fullmatch(default)):
            problem(f"{label} of '{name}' ({default!r}) is not a task hub name "
                    "(3-45 letters and digits, starting with a letter)")
    return spec.get("defaultValue")


app_project = os.path.normpath(function_projects[0] if function_projects else os.path.join(
    repo_root, "functions", "Nudge.App", "Nudge.App.csproj"))
app_dir = os.path.dirname(app_project)
app_rel = os.path.relpath(app_dir, repo_root)
try:
    with open(app_project, encoding="utf-8-sig") as f:
        isolated_worker = re.search(r'<PackageReference\s+Include="Microsoft\.Azure\.Functions\.Worker\.Sdk"',
                                    f.read()) is not None
except OSError:
    isolated_worker = False
    problem(f"{os.path.relpath(app_project, repo_root)} (the function app's project) is missing")


def source_files(root, suffix):
    """Files under root, build output (bin, obj) and hidden folders left out."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ("bin", "obj") and not d.startswith(".")]
        yield from (os.path.join(folder, f) for f in files if f.endswith(suffix))


# Constants may live in any of the app's projects (queue names in Nudge.Storage, say).
sources = {}
for path in source_files(os.path.join(repo_root, "functions"), ".cs"):
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        sources[path] = strip_csharp_comments(f.read())
constants, ambiguous = {}, set()
for text in sources.values():
    for name, expression in re.findall(r"\bconst\s+string\s+(\w+)\s*=\s*([^;]+);", text):
        if name in constants and constants[name] != expression.strip():
            ambiguous.add(name)
        constants[name] = expression.strip()
for name in ambiguous:
    constants.pop(name)

# "[QueueTrigger(", "[return: QueueOutput(", ", Microsoft.Azure.Functions.Worker.BlobInput(", "[DurableClient]" ...
ATTRIBUTE_START = re.compile(
    r"(?:\[\s*(?:\w+\s*:)?|,)\s*(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*?)(?:Attribute)?\s*(?:(\()|(?=[\],]))")
connections_checked, settings_named, durable_used = set(), set(), False
attribute_count = 0
app_sources = [p for p in sources if os.path.commonpath([p, app_dir]) == app_dir]
FUNCTION_NAME = re.compile(r"\[\s*Function\s*\(\s*([^)\]]+?)\s*\)")
function_triggers = {}  # [Function] name -> (trigger attribute, the queue it names)


def disabled(function_name):
    """The Functions host skips a function whose AzureWebJobs.<name>.Disabled setting is true."""
    return str(settings.get(f"AzureWebJobs.{function_name}.Disabled", "")).lower() in ("true", "1")


for path in sorted(app_sources):
    text, rel = sources[path], os.path.relpath(path, repo_root)
    declared_functions = [(m.start(), evaluate(m.group(1), constants)) for m in FUNCTION_NAME.finditer(text)]
    for match in ATTRIBUTE_START.finditer(mask_literals(text)):
        name = match.group(1)
        opens_bracket = match.group(0).lstrip().startswith("[")
        if not (name in KNOWN_BINDING_ATTRIBUTES
                or opens_bracket and name[0].isupper() and name.endswith(("Trigger", "Input", "Output"))):
            continue  # after a comma only known names: "f(a, ReadInput(b))" is a call, not an attribute
        arguments = argument_list(text, match.end()) if match.group(2) else []
        attribute_count += 1
        durable_used |= name in DURABLE_ATTRIBUTES
        line = text.count("\n", 0, match.start()) + 1
        where = f"{rel}:{line} [{name}]"
        function_name = next((f for start, f in reversed(declared_functions) if start < match.start()), None)
        if function_name and name.endswith("Trigger") and arguments:
            function_triggers[function_name] = (name, evaluate(arguments[0], constants))
        if function_name and disabled(function_name):
            continue  # a disabled function's bindings are never set up, so their settings may be absent
        connection, connection_unreadable = None, False
        for argument in arguments:
            named = re.match(r"^(\w+)\s*=(?!=)\s*(.*)$", argument, re.S)
            key, expression = (named.group(1), named.group(2)) if named else (None, argument)
            value = evaluate(expression, constants)
            if key == "Connection":
                connection, connection_unreadable = value, value is None
                if connection_unreadable:
                    problem(f"{where}: Connection = {expression.strip()} cannot be read from source; "
                            "use a string literal or a const string")
            if value is None:
                continue
            for setting in PLACEHOLDER.findall(value):
                settings_named.add(setting)
                if setting not in settings:
                    problem(f"{where}: '%{setting}%' needs app setting '{setting}', which the Bicep does not set")
        service = STORAGE_ATTRIBUTES.get(name)
        if service and not connection and not connection_unreadable:
            connection = "AzureWebJobsStorage"  # also what an empty Connection means
        if connection:
            connections_checked.add(connection)
            storage_services = [service] if service else list(SERVICE_SUFFIX)
            if not connection_defined(connection, storage_services) and not (
                    not service and f"{connection}__fullyQualifiedNamespace" in settings):
                problem(f"{where}: connection '{connection}' is defined by no app setting; expected one of "
                        f"{[' + '.join(o) for o in connection_settings(connection, storage_services)]}")

# host.json: %Name% anywhere is an app setting; the Durable Functions task hub needs blobs, queues and tables.
host_path = os.path.join(repo_root, "host.json")
host_placeholders, task_hub_default = set(), None
try:
    with open(host_path, encoding="utf-8-sig") as f:
        host = json.load(f)
except (OSError, ValueError) as error:
    host = {}
    problem(f"host.json cannot be read ({error})")


def strings_in(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value)


for value in strings_in(host):
    for setting in PLACEHOLDER.findall(value):
        host_placeholders.add(setting)
        if setting not in settings:
            problem(f"host.json: '%{setting}%' needs app setting '{setting}', which the Bicep does not set")

durable = ((host.get("extensions") or {}).get("durableTask") if isinstance(host, dict) else None) or {}
if durable or durable_used:
    provider = durable.get("storageProvider") or {}
    connection = provider.get("connectionName") or provider.get("connectionStringName") or "AzureWebJobsStorage"
    connections_checked.add(connection)
    if not connection_defined(connection, list(SERVICE_SUFFIX)):
        problem(f"Durable Functions' task hub connection '{connection}' is defined by no app setting; expected one of "
                f"{[' + '.join(o) for o in connection_settings(connection, list(SERVICE_SUFFIX))]}")
    hub = durable.get("hubName")
    if isinstance(hub, str) and PLACEHOLDER.fullmatch(hub):
        task_hub_default = check_task_hub_setting(PLACEHOLDER.fullmatch(hub).group(1), "host.json hubName")
    elif isinstance(hub, str) and not TASK_HUB_NAME.fullmatch(hub):
        problem(f"host.json: durableTask.hubName '{hub}' is not a task hub name (3-45 letters and digits, starting with a letter)")
    elif hub is None:
        problem("host.json: durableTask.hubName is not set; the task hub name must come from NUDGE_TASK_HUB")
task_hub_default = check_task_hub_setting("NUDGE_TASK_HUB", "NUDGE_TASK_HUB") or task_hub_default

# What the runtime expects of the app. Before Nudge.App references the Worker SDK it is still
# the custom handler: that is reported, not failed, so the infrastructure can move first.
function_json_files = sorted(p for p in source_files(app_dir, "function.json") if os.path.basename(p) == "function.json")
custom_handler = isinstance(host, dict) and "customHandler" in host
if isolated_worker:
    app_model = "isolated worker"
    if custom_handler:
        problem("host.json declares a customHandler; the isolated worker takes none")
    if isinstance(host, dict) and "extensionBundle" in host:
        problem("host.json declares an extensionBundle; the isolated worker brings its extensions "
                "(.azurefunctions, built by the Worker SDK)")
    for path in function_json_files:
        problem(f"{os.path.relpath(path, repo_root)}: the Worker SDK generates functions.metadata; "
                "a function.json is not read")
    if not attribute_count:
        problem(f"no binding attributes found in {app_rel}/**/*.cs")
else:
    app_model = "custom handler, not yet on the isolated worker"
    print(f"check-infra: note: {os.path.relpath(app_project, repo_root)} does not reference "
          f"Microsoft.Azure.Functions.Worker.Sdk ({len(function_json_files)} function.json, "
          f"host.json customHandler {'present' if custom_handler else 'absent'}); the template deploys "
          f"{EXPECTED_RUNTIME[0]} {EXPECTED_RUNTIME[1]}")

# The host itself needs blob storage (keys, timer and singleton locks) even without storage bindings.
if not any(s in settings for s in ("AzureWebJobsStorage", "AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__accountName")):
    problem("the Functions host storage (AzureWebJobsStorage__blobServiceUri) is not configured")

# ------------------------------------------------------------------ delivery transport: one transport's senders run
# The channel senders: Service Bus triggers, and Storage queue triggers on the delivery-<channel> queues. Under each
# choice the other transport's senders must be disabled by setting, and the chosen one's must not be.
service_bus_senders = sorted(f for f, (t, _) in function_triggers.items() if t == "ServiceBusTrigger")
storage_senders = sorted(f for f, (t, q) in function_triggers.items() if t == "QueueTrigger" and str(q or "").startswith("delivery-"))
if not service_bus_senders or not storage_senders:
    problem(f"expected channel senders on both transports in {app_rel}; found Service Bus {service_bus_senders}, Storage queues {storage_senders}")
chosen, other = (service_bus_senders, storage_senders) if choice == "servicebus" else (storage_senders, service_bus_senders)
for function_name in other:
    if not disabled(function_name):
        problem(f"deliveryTransport={choice}: {function_name} (the other transport's sender) is not disabled "
                f"(app setting AzureWebJobs.{function_name}.Disabled = 'true')")
for function_name in chosen:
    if disabled(function_name):
        problem(f"deliveryTransport={choice}: {function_name} sends this transport's deliveries but is disabled")
if str(settings.get("Nudge__Delivery__Transport")) != choice:
    problem(f"deliveryTransport={choice}: app setting Nudge__Delivery__Transport is {settings.get('Nudge__Delivery__Transport')!r}")
if choice == "servicebus":
    for name in ("ServiceBusConnection__fullyQualifiedNamespace", "ServiceBusConnection__credential", "ServiceBusConnection__clientId"):
        if name not in settings:
            problem(f"deliveryTransport=servicebus: app setting '{name}' (the identity-based Service Bus connection) is not produced by the Bicep")

# ------------------------------------------------------------------ identity, roles, tags
template_text = json.dumps(template)
expected_roles = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "09976791-48a7-449e-bb21-39d1a415f350": "Communication and Email Service Owner",
    "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39": "Azure Service Bus Data Sender",
    "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": "Azure Service Bus Data Receiver",
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
    f"check-infra: {status} — deliveryTransport={choice}: {bicep_reported}: {bicep_state}; azure.yaml {len(services)} service(s); "
    f"app ({app_model}): {len(app_sources)} C# files, {attribute_count} binding attributes, "
    f"connections checked {sorted(connections_checked)}, settings named {sorted(settings_named | host_placeholders)}; "
    f"runtime {worker_runtime}; task hub setting NUDGE_TASK_HUB (default {task_hub_default}); "
    f"{len(settings)} app settings",
    file=sys.stderr if total else sys.stdout,
)
sys.exit(1 if total else 0)
PY
}
for choice in "${transport_choices[@]}"; do
  check_settings "$choice" || python_rc=$?
done

# python3 printed the summary line; a non-zero code means something failed
# (or the checker itself crashed, which its traceback shows).
if [[ $python_rc -ne 0 || $problems -gt 0 ]]; then
  exit 1
fi
