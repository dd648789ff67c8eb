#!/usr/bin/env bash
# Register (or verify) the Microsoft Entra app for the mcpguard hub with the Azure CLI (`az`).
#
#   deploy/entra/hub-app.sh register --hub-url https://hub.example.com [--prefix /team-a] [--name "mcpguard hub"]
#                                    [--identifier-uri URI] [--secret-file PATH] [--mode facade|entra]
#   deploy/entra/hub-app.sh verify   --app-id <client id> --hub-url https://hub.example.com [--prefix /team-a]
#                                    [--mode facade|entra]
#
# `register` performs the nine app-registration items (docs/entra.md, "App registration"):
#   1 app + explicit service principal        6 Microsoft Graph User.Read (delegated)
#   2 identifier URI (App ID URI)             7 id-token issuance on
#   3 requestedAccessTokenVersion = 2         8 a client secret, written to a 0600 file; stderr kept apart
#   4 delegated scope `mcp.access`            9 tenant-wide admin consent
#   5 redirect URIs
# plus the app roles Hub.Admin / Hub.Manager / Hub.User / Hub.Viewer that the hub maps to its roles.
# It is safe to re-run: it finds the app by display name and updates it.
# `verify` reads the registration back (`az ad app show`) and prints OK/FAIL per item; exit 1 on any FAIL.
#
# Needs: az (logged in with `az login --tenant <tid>` as someone who may register apps and grant admin consent), jq.
set -euo pipefail

GRAPH_APP_ID="00000003-0000-0000-c000-000000000000"
GRAPH_USER_READ="e1fe6dd8-ba31-4d61-89e7-88639da4683d"   # delegated permission id of User.Read
SCOPE_VALUE="mcp.access"

die() { printf 'hub-app: %s\n' "$*" >&2; exit 2; }
info() { printf '==> %s\n' "$*" >&2; }

cmd="${1:-}"; shift || true
NAME="mcpguard hub"; HUB_URL=""; PREFIX=""; IDENTIFIER_URI=""; SECRET_FILE="./entra-client-secret"
MODE="facade"; APP_ID=""
while [ $# -gt 0 ]; do
  case "$1" in
    --name) NAME="$2"; shift 2 ;;
    --hub-url) HUB_URL="${2%/}"; shift 2 ;;
    --prefix) PREFIX="${2%/}"; shift 2 ;;
    --identifier-uri) IDENTIFIER_URI="$2"; shift 2 ;;
    --secret-file) SECRET_FILE="$2"; shift 2 ;;
    --mode) MODE="$2"; shift 2 ;;
    --app-id) APP_ID="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[ -n "$HUB_URL" ] || die "--hub-url is required (the hub's public origin, https://…)"
case "$HUB_URL" in https://*) ;; *) die "--hub-url must be https" ;; esac
case "$MODE" in facade|entra) ;; *) die "--mode must be facade or entra" ;; esac
command -v az >/dev/null || die "the Azure CLI (az) is not installed"
command -v jq >/dev/null || die "jq is not installed"

MCP_URL="${HUB_URL}${PREFIX}/mcp"
# facade: Entra redirects to the hub's own callback. entra (direct): claude.ai talks to Entra itself.
if [ "$MODE" = facade ]; then
  REDIRECTS=("${HUB_URL}${PREFIX}/oauth/callback")
else
  REDIRECTS=("https://claude.ai/api/mcp/auth_callback" "https://claude.com/api/mcp/auth_callback")
fi

app_roles_json() {
  local out="[" first=1 value desc
  for value in Hub.Admin Hub.Manager Hub.User Hub.Viewer; do
    desc="mcpguard hub role ${value#Hub.}"
    [ $first -eq 1 ] || out+=","
    first=0
    out+=$(jq -cn --arg v "$value" --arg d "$desc" --arg id "$(stable_uuid "$value")" \
      '{allowedMemberTypes:["User"], description:$d, displayName:$v, id:$id, isEnabled:true, value:$v}')
  done
  printf '%s]' "$out"
}

# A UUID derived from the app id and a name, so re-runs keep the same ids (Graph refuses changing them in place).
stable_uuid() {
  local h
  h=$(printf '%s:%s' "$APP_ID" "$1" | sha256sum | cut -c1-32)
  printf '%s-%s-4%s-8%s-%s' "${h:0:8}" "${h:8:4}" "${h:13:3}" "${h:17:3}" "${h:20:12}"
}

register() {
  info "1/9 app registration and service principal"
  APP_ID=$(az ad app list --display-name "$NAME" --query '[0].appId' -o tsv 2>/dev/null || true)
  if [ -z "$APP_ID" ]; then
    APP_ID=$(az ad app create --display-name "$NAME" --sign-in-audience AzureADMyOrg --query appId -o tsv)
  fi
  local object_id tenant_id
  object_id=$(az ad app show --id "$APP_ID" --query id -o tsv)
  tenant_id=$(az account show --query tenantId -o tsv)
  az ad sp show --id "$APP_ID" >/dev/null 2>&1 || az ad sp create --id "$APP_ID" >/dev/null

  info "2/9 identifier URI"
  # Direct (entra) mode: claude.ai sends resource=<MCP URL>, which Entra v2 accepts only when it byte-matches an
  # identifier URI (AADSTS9010010), so the MCP URL itself (on a verified domain) is the App ID URI there.
  if [ -z "$IDENTIFIER_URI" ]; then
    if [ "$MODE" = entra ]; then IDENTIFIER_URI="$MCP_URL"; else IDENTIFIER_URI="api://${APP_ID}"; fi
  fi
  az ad app update --id "$APP_ID" --identifier-uris "$IDENTIFIER_URI"

  info "3/9 access token version 2, 4/9 scope ${SCOPE_VALUE}, app roles"
  local scope_id body
  scope_id=$(az ad app show --id "$APP_ID" \
    --query "api.oauth2PermissionScopes[?value=='${SCOPE_VALUE}'].id | [0]" -o tsv)
  [ -n "$scope_id" ] || scope_id=$(stable_uuid "$SCOPE_VALUE")
  body=$(jq -cn --arg id "$scope_id" --arg v "$SCOPE_VALUE" --argjson roles "$(app_roles_json)" '{
    api: {requestedAccessTokenVersion: 2, oauth2PermissionScopes: [{
      id: $id, value: $v, type: "User", isEnabled: true,
      adminConsentDisplayName: "Use the mcpguard hub", adminConsentDescription: "Use the MCP hub as the signed-in user.",
      userConsentDisplayName: "Use the mcpguard hub", userConsentDescription: "Use the MCP hub as you."}]},
    appRoles: $roles}')
  az rest --method PATCH --uri "https://graph.microsoft.com/v1.0/applications/${object_id}" \
    --headers 'Content-Type=application/json' --body "$body"

  info "5/9 redirect URIs: ${REDIRECTS[*]}"
  az ad app update --id "$APP_ID" --web-redirect-uris "${REDIRECTS[@]}"

  info "6/9 Microsoft Graph User.Read"
  az ad app permission add --id "$APP_ID" --api "$GRAPH_APP_ID" --api-permissions "${GRAPH_USER_READ}=Scope" \
    >/dev/null 2>&1 || true

  info "7/9 id-token issuance"
  az ad app update --id "$APP_ID" --enable-id-token-issuance true

  info "8/9 client secret -> ${SECRET_FILE} (0600)"
  # stdout only: a warning on stderr once ended up inside a stored secret. stderr goes to its own file.
  local errlog secret
  errlog=$(mktemp)
  umask 077
  if ! secret=$(az ad app credential reset --id "$APP_ID" --append --display-name "mcpguard-hub" --years 1 \
      --query password -o tsv 2>"$errlog"); then
    cat "$errlog" >&2; rm -f "$errlog"; die "could not create a client secret"
  fi
  rm -f "$errlog"
  case "$secret" in *[[:space:]]*|"") die "the secret returned by az looks malformed; not written" ;; esac
  printf '%s\n' "$secret" > "$SECRET_FILE"
  chmod 600 "$SECRET_FILE"
  unset secret

  info "9/9 tenant-wide admin consent"
  az ad app permission admin-consent --id "$APP_ID"

  cat <<EOT

Done. Put this into hub.toml:

  [auth]
  mode = "${MODE}"

  [auth.entra]
  tenant_ids = ["${tenant_id}"]
  client_id = "${APP_ID}"
  app_id_uri = "${IDENTIFIER_URI}"
  client_secret_file = "${SECRET_FILE}"
EOT
  if [ "$MODE" = facade ]; then
    printf '\n  [auth.facade]\n  issuer = "%s%s"\n' "$HUB_URL" "$PREFIX"
  fi
  printf '\nclaude.ai custom connector URL: %s\n' "$MCP_URL"
  printf '\nThen assign users or groups to the app roles (Enterprise applications → %s → Users and groups),\n' "$NAME"
  printf 'and check it: %s verify --app-id %s --hub-url %s%s --mode %s\n' "$0" "$APP_ID" "$HUB_URL" \
    "${PREFIX:+ --prefix $PREFIX}" "$MODE"
}

verify() {
  [ -n "$APP_ID" ] || die "--app-id is required"
  local app fails=0
  app=$(az ad app show --id "$APP_ID" -o json) || die "app ${APP_ID} not found"
  check() { if [ "$2" = true ]; then printf '  OK   %s\n' "$1"; else printf '  FAIL %s: %s\n' "$1" "$3"; fails=$((fails+1)); fi; }
  check "1 service principal" "$(az ad sp show --id "$APP_ID" >/dev/null 2>&1 && echo true || echo false)" \
    "run: az ad sp create --id ${APP_ID}"
  check "2 identifier URI" "$(jq '(.identifierUris | length) > 0' <<<"$app")" "no identifierUris"
  check "3 access token v2" "$(jq '.api.requestedAccessTokenVersion == 2' <<<"$app")" \
    "requestedAccessTokenVersion is not 2 (v1 tokens carry another issuer and audience)"
  check "4 scope ${SCOPE_VALUE}" \
    "$(jq --arg v "$SCOPE_VALUE" '[.api.oauth2PermissionScopes[]? | select(.value == $v and .isEnabled)] | length == 1' <<<"$app")" \
    "no enabled delegated scope ${SCOPE_VALUE}"
  local r want
  for r in "${REDIRECTS[@]}"; do
    want=$(jq --arg r "$r" '.web.redirectUris | index($r) != null' <<<"$app")
    check "5 redirect URI ${r}" "$want" "missing (AADSTS50011 at sign-in)"
  done
  check "6 Graph User.Read" \
    "$(jq --arg g "$GRAPH_APP_ID" --arg p "$GRAPH_USER_READ" '[.requiredResourceAccess[]? | select(.resourceAppId == $g) | .resourceAccess[]? | select(.id == $p)] | length == 1' <<<"$app")" \
    "User.Read not requested"
  check "7 id tokens" "$(jq '.web.implicitGrantSettings.enableIdTokenIssuance == true' <<<"$app")" \
    "id-token issuance off"
  check "8 client secret" "$(jq '[.passwordCredentials[]? | select(.endDateTime > (now | todate))] | length > 0' <<<"$app")" \
    "no unexpired client secret"
  local grants
  grants=$(az ad app permission list-grants --id "$APP_ID" --query "[?consentType=='AllPrincipals'] | length(@)" -o tsv 2>/dev/null || echo 0)
  check "9 admin consent" "$([ "${grants:-0}" -gt 0 ] && echo true || echo false)" \
    "no tenant-wide consent: az ad app permission admin-consent --id ${APP_ID}"
  check "app roles" "$(jq '[.appRoles[]? | select(.value | startswith("Hub."))] | length >= 1' <<<"$app")" \
    "no Hub.* app roles (every user gets auth.entra.roles.default)"
  if [ "$fails" -gt 0 ]; then printf '%d problem(s)\n' "$fails"; exit 1; fi
  printf 'app registration looks right\n'
}

case "$cmd" in
  register) register ;;
  verify) verify ;;
  *) die "usage: $0 register|verify --hub-url https://… [options]   (see --help)" ;;
esac
