"""deploy/: the Dockerfile, compose.yaml, hub.toml and the Helm chart parse and keep secrets out (no Docker engine or
helm binary here, so the chart's templates are rendered by a small renderer for the subset they use)."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.settings import parse_settings
from hub.vault.settings import parse_vault_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHART = DEPLOY / "helm" / "mcpguard-hub"
_EXPR = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")


def _lookup(path: str, ctx: dict[str, Any]) -> Any:
    node: Any = ctx
    for part in path.lstrip(".").split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"template references missing value .{path.lstrip('.')}")
        node = node[part]
    return node


def render(text: str, ctx: dict[str, Any]) -> str:
    """Render ``{{ .A.b | quote | indent N | sha256sum }}``; anything else fails the test."""

    def one(m: re.Match[str]) -> str:
        parts = [p.strip() for p in m.group(1).split("|")]
        if not parts[0].startswith("."):
            raise AssertionError(f"unsupported template expression: {m.group(0)}")
        value: Any = _lookup(parts[0], ctx)
        for fn in parts[1:]:
            name, *args = fn.split()
            if name == "quote":
                value = json.dumps(str(value))
            elif name == "indent":
                value = "\n".join(" " * int(args[0]) + line if line else line for line in str(value).splitlines())
            elif name == "sha256sum":
                value = hashlib.sha256(str(value).encode()).hexdigest()
            else:
                raise AssertionError(f"unsupported template function {name}")
        return str(value)

    return _EXPR.sub(one, text)


@pytest.fixture(scope="module")
def chart_ctx() -> dict[str, Any]:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    return {"Values": values, "Release": {"Name": "hub"}, "Chart": {"Name": chart["name"],
                                                                   "AppVersion": chart["appVersion"]}}


def test_chart_metadata() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"]) and chart["name"] == "mcpguard-hub"


def test_chart_templates_render_to_valid_manifests(chart_ctx: dict[str, Any]) -> None:
    docs = []
    for path in sorted((CHART / "templates").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(render(path.read_text(), chart_ctx)) if d)
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"ConfigMap", "Deployment", "PersistentVolumeClaim", "Service"}
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["envFrom"] == [{"secretRef": {"name": "mcpguard-hub-keys"}}]
    assert "env" not in container  # no inline values: keys only from the referenced Secret
    # The ConfigMap holds a hub.toml the hub accepts, with the env KEK provider.
    settings = parse_settings(tomllib.loads(kinds["ConfigMap"]["data"]["hub.toml"]))
    assert parse_vault_settings(settings.vault).kek_provider == "env"
    assert settings.storage.database_url and ":" not in settings.storage.database_url.split("@")[0].split("//")[1]


def test_image_config_and_compose(tmp_path: Path) -> None:
    settings = parse_settings(tomllib.loads((DEPLOY / "hub.toml").read_text()))
    assert parse_vault_settings(settings.vault).kek_provider == "env"
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    hub = compose["services"]["hub"]
    assert hub["build"]["dockerfile"] == "deploy/Dockerfile"
    for name, value in hub["environment"].items():
        assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", value), f"{name} must come from the environment"
    assert all(p.startswith("127.0.0.1:") for p in hub["ports"])
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")


def test_dockerfile_shape() -> None:
    # Join backslash continuations so each instruction is one line.
    joined = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    instructions = [ln.split()[0] for ln in lines if ln.split()[0].isupper()]
    assert instructions[0] == "FROM" and instructions.count("FROM") == 2
    user = next(ln for ln in lines if ln.startswith("USER "))
    assert user.split()[1].split(":")[0] not in ("0", "root")
    cmd = next(ln for ln in lines if ln.startswith("CMD "))
    assert json.loads(cmd[4:]) == ["mcpguard", "hub", "serve", "--config", "/etc/mcpguard/hub.toml"]
    text = (DEPLOY / "Dockerfile").read_text()
    assert not re.search(r"^\s*(ENV|ARG)\b.*KEK", text, re.M), "key material must not be baked into the image"
