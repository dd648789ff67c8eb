"""``deploy/entra/hub-app.sh`` against a fake ``az`` that records its calls: the nine items are performed, the secret
file is 0600 and holds stdout only (never az's stderr), and the script passes shellcheck when it is installed."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "entra" / "hub-app.sh"

FAKE_AZ = r"""#!/usr/bin/env bash
printf '%s\n' "$*" >> "$AZ_LOG"
case "$*" in
  "ad app list"*) echo "" ;;
  "ad app create"*) echo "app-123" ;;
  "ad app show --id app-123 --query id -o tsv") echo "obj-1" ;;
  "ad app show --id app-123 --query api.oauth2PermissionScopes"*) echo "" ;;
  "ad app show --id app-123 -o json") cat "$AZ_APP_JSON" ;;
  "account show"*) echo "tid-1" ;;
  "ad sp show"*) exit 1 ;;
  "ad app credential reset"*) echo "WARNING: the secret is shown once" >&2; echo "s3cr3t~value" ;;
  "rest "*) for a in "$@"; do :; done; printf '%s\n' "$a" > "$AZ_BODY" ;;
  *) ;;
esac
"""


@pytest.fixture
def fake_az(tmp_path: Path) -> dict[str, str]:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    az = bindir / "az"
    az.write_text(FAKE_AZ)
    az.chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", AZ_LOG=str(tmp_path / "az.log"),
               AZ_BODY=str(tmp_path / "body.json"), AZ_APP_JSON=str(tmp_path / "app.json"))
    return env


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed")
def test_register_performs_the_nine_items(fake_az, tmp_path):
    secret_file = tmp_path / "secret"
    r = subprocess.run([str(SCRIPT), "register", "--hub-url", "https://hub.example.com", "--prefix", "/team-a",
                        "--secret-file", str(secret_file)], env=fake_az, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    calls = Path(fake_az["AZ_LOG"]).read_text()
    assert "ad sp create --id app-123" in calls
    assert "--identifier-uris api://app-123" in calls
    assert "--web-redirect-uris https://hub.example.com/team-a/oauth/callback" in calls
    assert "00000003-0000-0000-c000-000000000000 --api-permissions e1fe6dd8-ba31-4d61-89e7-88639da4683d=Scope" in calls
    assert "--enable-id-token-issuance true" in calls
    assert "admin-consent --id app-123" in calls
    body = json.loads(Path(fake_az["AZ_BODY"]).read_text())
    assert body["api"]["requestedAccessTokenVersion"] == 2
    assert body["api"]["oauth2PermissionScopes"][0]["value"] == "mcp.access"
    assert {r["value"] for r in body["appRoles"]} == {"Hub.Admin", "Hub.Manager", "Hub.User", "Hub.Viewer"}
    assert secret_file.read_text() == "s3cr3t~value\n"  # stderr's WARNING did not get in
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "s3cr3t" not in r.stdout + r.stderr
    assert 'issuer = "https://hub.example.com/team-a"' in r.stdout


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq not installed")
def test_verify_reports_problems(fake_az, tmp_path):
    Path(fake_az["AZ_APP_JSON"]).write_text(json.dumps({
        "identifierUris": ["api://app-123"], "api": {"requestedAccessTokenVersion": 1, "oauth2PermissionScopes": []},
        "web": {"redirectUris": [], "implicitGrantSettings": {"enableIdTokenIssuance": False}},
        "requiredResourceAccess": [], "passwordCredentials": [], "appRoles": [],
    }))
    r = subprocess.run([str(SCRIPT), "verify", "--app-id", "app-123", "--hub-url", "https://hub.example.com"],
                       env=fake_az, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "FAIL 3 access token v2" in r.stdout and "FAIL 5 redirect URI" in r.stdout and "OK   2 identifier" in r.stdout


def test_refuses_http_hub_url(fake_az):
    r = subprocess.run([str(SCRIPT), "register", "--hub-url", "http://hub.example.com"], env=fake_az,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "https" in r.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck_clean():
    r = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout
