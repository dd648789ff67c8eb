"""Generate the labelled detection corpus: ``records.jsonl`` and ``labels.jsonl`` in this directory.

Run: ``.venv/bin/python tests/corpus/generate.py`` (seeded; the output is committed and must not change unless this
script does).

Each record is an MCP ``tools/call`` result shaped like what real servers return (``content[].text`` blocks, or
structured JSON): git logs and diffs, SQL rows (as ``mcp-server-sqlite`` prints them and as JSON), file listings and
file contents (``.env``, YAML, JSON config, Python), HTTP responses, AWS CLI JSON, application logs, base64 blobs, and
prose in English and Korean. Labels are spans ``(record, JSON path, start, end, type)`` with ``str`` offsets into the
leaf at that JSON pointer; keys of JSON objects are leaves too (their path is the member's pointer).

Where the ground truth comes from:

- published test vectors are *not* positives: they appear as placeholders (hard negatives) because the engine's
  default is ``flag_placeholders = false``;
- generated values are checked by a validator independent of the engine before they are labelled: ``phonenumbers``
  (every phone), ``python-stdnum`` (Luhn for cards, IBAN mod-97, ``kr.brn``, ``us.ssn``, ``br.cpf``, ``cn.ric``,
  Verhoeff for Aadhaar, ``kr.rrn`` for checksummed RRNs), ``datetime`` (RRN birth dates), ``ipaddress`` (private
  ranges), PyJWT (tokens that decode), ``cryptography`` (real private keys), CRC32 per GitHub's published token format;
- Faker supplies names, addresses, e-mail addresses, phone numbers, card numbers, IBANs, CPFs and Chinese ids; its
  ``ko_KR`` ``ssn`` is not used (it mostly fails validation), RRNs are built from their published structure;
- span conventions follow ``docs/detection.md`` (e.g. only the password of a URL, only the credentials after
  ``Bearer``, only the value of ``password=…``, only the bucket name of an S3 URL).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import random
import string
import zlib
from pathlib import Path

import jwt as pyjwt
import phonenumbers
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from faker import Faker
from stdnum import iban as std_iban
from stdnum import luhn, verhoeff
from stdnum.br import cpf as std_cpf
from stdnum.cn import ric as std_ric
from stdnum.kr import brn as std_brn
from stdnum.kr import rrn as std_rrn
from stdnum.us import ssn as std_ssn

HERE = Path(__file__).resolve().parent
SEED = 20261122
R = random.Random(SEED)
EN = Faker("en_US")
KO = Faker("ko_KR")
EN.seed_instance(SEED)
KO.seed_instance(SEED + 1)
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64 = string.ascii_letters + string.digits + "+/"
B32 = string.ascii_uppercase + "234567"
HEX = "0123456789abcdef"


_FAKERS: dict[str, Faker] = {}


def faker(locale: str) -> Faker:
    """A seeded Faker per locale (creating one costs tens of milliseconds)."""
    if locale not in _FAKERS:
        f = Faker(locale)
        f.seed_instance(SEED + len(_FAKERS) + 2)
        _FAKERS[locale] = f
    return _FAKERS[locale]


_T0, _T1 = datetime.datetime(2015, 1, 1), datetime.datetime(2026, 1, 1)


def dt() -> datetime.datetime:
    """A reproducible timestamp (Faker's ``date_time`` is bounded by *now*)."""
    return EN.date_time_between(_T0, _T1)


def rs(alphabet: str, n: int) -> str:
    return "".join(R.choice(alphabet) for _ in range(n))


class Text:
    """Builds one leaf's text while recording label spans."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.n = 0
        self.spans: list[tuple[int, int, str]] = []

    def add(self, s: str) -> "Text":
        self.parts.append(s)
        self.n += len(s)
        return self

    def val(self, s: str, typ: str | None) -> "Text":
        if typ:
            self.spans.append((self.n, self.n + len(s), typ))
        return self.add(s)

    def __str__(self) -> str:
        return "".join(self.parts)


# ---------------------------------------------------------------- value generators (validated)


def email() -> str:
    f = R.choice([EN.free_email, EN.company_email, KO.free_email, KO.company_email])
    while True:
        e = f()
        if not e.split("@")[1].startswith("example."):
            return e


def phone() -> str:
    while True:
        kind = R.random()
        if kind < 0.45:
            raw, region = KO.phone_number(), "KR"
        elif kind < 0.8:
            raw, region = EN.phone_number(), "US"
        else:
            raw, region = R.choice(["+44 20 7946 ", "+49 30 ", "+81 3-", "+33 1 ", "+61 2 "]) + rs("123456789", 8), None
        try:
            num = phonenumbers.parse(raw.split("x")[0], region)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(num):
            continue
        if region == "KR":
            nat = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
            k = R.random()
            if k < 0.6:
                return nat  # 010-1234-5678
            if k < 0.75:
                return nat.replace("-", " ")  # 010 1234 5678
            if k < 0.85:
                return nat.replace("-", "")  # 01012345678
            return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        if region == "US":
            nat = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)  # (415) 555-2671
            digits = "".join(c for c in nat if c.isdigit())
            return R.choice([nat, f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", f"+1 {digits[:3]}-{digits[3:6]}-{digits[6:]}",
                             f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"])
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def card() -> str:
    while True:
        n = EN.credit_card_number(R.choice(["visa16", "mastercard", "amex", "discover", "jcb16", "visa16"]))
        if luhn.is_valid(n) and len(set(n)) >= 4:
            break
    if R.random() < 0.5:
        return n
    if len(n) == 15:
        return f"{n[:4]} {n[4:10]} {n[10:]}"
    sep = R.choice([" ", "-"])
    return sep.join(n[i : i + 4] for i in range(0, len(n), 4))


def iban() -> str:
    while True:
        v = faker(R.choice(["de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES", "it_IT"])).iban()
        if std_iban.is_valid(v):
            break
    return " ".join(v[i : i + 4] for i in range(0, len(v), 4)) if R.random() < 0.5 else v


def rrn(dash: bool = True) -> str:
    while True:
        born = datetime.date(1940, 1, 1) + datetime.timedelta(days=R.randrange(0, 365 * 80))
        g = R.choice("12") if born.year < 2000 else R.choice("34")
        if R.random() < 0.1:
            g = str(int(g) + 4)  # foreign residents: 5-8
        body = born.strftime("%y%m%d") + g + f"{R.randrange(0, 97):02d}" + rs("0123456789", 3)
        if R.random() < 0.5:
            full = body + std_rrn.calc_check_digit(body)
            if not std_rrn.is_valid(full):
                continue
        else:
            full = body + R.choice("0123456789")  # post-2020 numbers: random last digits
        return f"{full[:6]}-{full[6:]}" if dash else full


def brn() -> str:
    # stdnum.kr.brn checks the format only; the check digit follows the NTS algorithm (weights 1,3,7,1,3,7,1,3,5 and
    # the carried tens of 5 × the ninth digit).
    while True:
        body = rs("123456789", 1) + rs("0123456789", 8)
        total = sum(int(c) * w for c, w in zip(body, (1, 3, 7, 1, 3, 7, 1, 3, 5))) + int(body[8]) * 5 // 10
        v = body + str((10 - total % 10) % 10)
        if std_brn.is_valid(v):
            return f"{v[:3]}-{v[3:5]}-{v[5:]}"


def ssn() -> str:
    while True:
        v = EN.ssn()
        if std_ssn.is_valid(v) and v.replace("-", "") not in ("078051120", "219099999", "123456789"):
            return v


def national_id() -> str:
    k = R.random()
    if k < 0.4:
        v = faker("pt_BR").cpf()
        assert std_cpf.is_valid(v)
        return v
    if k < 0.7:
        body = rs("23456789", 1) + rs("0123456789", 10)
        v = body + verhoeff.calc_check_digit(body)
        return f"{v[:4]} {v[4:8]} {v[8:]}"
    while True:
        v = faker("zh_CN").ssn()
        if std_ric.is_valid(v):
            return v


def aws_key_id() -> str:
    return R.choice(["AKIA", "ASIA"]) + rs(B32, 16)


def aws_secret() -> str:
    return rs(B64, 40)


def gh_token() -> str:
    body = rs(B62, 30)
    n = zlib.crc32(body.encode())
    check = ""
    for _ in range(6):
        n, r = divmod(n, 62)
        check = B62[r] + check
    if R.random() < 0.2:
        return "github_pat_" + rs(B62, 22) + "_" + rs(B62, 59)
    return R.choice(["ghp_", "gho_", "ghs_", "ghu_"]) + body + check


def npm_token() -> str:
    body = rs(B62, 30)
    n = zlib.crc32(body.encode())
    check = ""
    for _ in range(6):
        n, r = divmod(n, 62)
        check = B62[r] + check
    return "npm_" + body + check


def jwt_token() -> str:
    claims = {"sub": str(R.randrange(10**6)), "iat": 1_700_000_000 + R.randrange(10**7), "scope": "read write",
              "email": email()}
    return pyjwt.encode(claims, rs(B62, 48), algorithm=R.choice(["HS256", "HS384"]))


_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def private_key() -> str:
    # Keys are derived from the seeded RNG so the corpus is reproducible (OpenSSH's format embeds a random
    # check value, so only PKCS#8 and traditional PEM are used).
    if R.random() < 0.5:
        k = ec.derive_private_key(R.randrange(1, _P256_ORDER), ec.SECP256R1())
        fmt = R.choice([serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL])
    else:
        k = ed25519.Ed25519PrivateKey.from_private_bytes(R.randbytes(32))
        fmt = serialization.PrivateFormat.PKCS8
    return k.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode().strip()


SECRET_GENS = {
    "aws_access_key_id": aws_key_id,
    "github_token": gh_token,
    "gitlab_token": lambda: "glpat-" + rs(B62 + "_-", 20),
    "npm_token": npm_token,
    "slack_token": lambda: R.choice(["xoxb-", "xoxp-"]) + rs(string.digits, 12) + "-" + rs(string.digits, 13) + "-" + rs(B62, 24),
    "stripe_key": lambda: R.choice(["sk_live_", "sk_test_", "rk_live_"]) + rs(B62, R.choice([24, 99])),
    "sendgrid_key": lambda: "SG." + rs(B62 + "_-", 22) + "." + rs(B62 + "_-", 43),
    "twilio_key": lambda: "SK" + rs(HEX, 32),
    "openai_key": lambda: "sk-proj-" + rs(B62 + "_-", 74) + "T3BlbkFJ" + rs(B62 + "_-", 74),
    "anthropic_key": lambda: "sk-ant-api03-" + rs(B62 + "_-", 93) + "AA",
    "google_api_key": lambda: "AIza" + rs(B62 + "_-", 35),
    "google_oauth_client_secret": lambda: "GOCSPX-" + rs(B62 + "_-", 28),
    "azure_client_secret": lambda: rs(B62, 3) + R.choice("0123456789") + "Q~" + rs(B62 + "_~.-", 34),
    "jwt": jwt_token,
}


def storage_key() -> str:
    return base64.b64encode(R.randbytes(64)).decode()


def password() -> str:
    return rs(string.ascii_letters + string.digits + "!#%&*-_+", R.randrange(10, 24))


def account_id() -> str:
    return rs("123456789", 1) + rs(string.digits, 11)


def res_id(prefix: str) -> str:
    return prefix + "-" + rs(HEX, R.choice([8, 17, 17, 17]))


def private_v4() -> str:
    net = R.choice(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    n = ipaddress.ip_network(net)
    return str(n[R.randrange(1, n.num_addresses - 1)])


def private_v6() -> str:
    return str(ipaddress.IPv6Address(b"\xfd" + R.randbytes(15))) if R.random() < 0.7 else \
        str(ipaddress.IPv6Address(b"\xfe\x80" + b"\x00" * 6 + R.randbytes(8)))


def bucket() -> str:
    return R.choice(["acme", "prod", "data", "logs", "ml", "web"]) + "-" + EN.word().lower() + "-" + rs("abcdefghijklmnop0123456789", 6)


REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-2", "eu-central-1"]


# ---------------------------------------------------------------- hard negatives and prose

KO_SENTENCES = [
    "오늘 회의에서는 다음 분기 출시 일정과 예산을 검토했습니다.", "서버 점검은 매주 화요일 새벽 2시에 진행됩니다.",
    "자세한 내용은 첨부된 문서를 참고해 주시기 바랍니다.", "배포 파이프라인이 실패하여 원인을 분석하고 있습니다.",
    "고객 문의가 지난주 대비 12% 증가했습니다.", "새 버전 3.2.1에서는 검색 속도가 크게 개선되었습니다.",
    "데이터베이스 마이그레이션은 주말에 완료될 예정입니다.", "보안 점검 결과 심각한 취약점은 발견되지 않았습니다.",
    "주문번호 2024-000123의 배송이 시작되었습니다.", "모든 팀원은 금요일까지 주간 보고서를 제출해 주세요.",
    "이번 업데이트로 로그인 오류가 해결되었습니다.", "성능 테스트 결과 평균 응답 시간은 120ms였습니다.",
    "프로젝트 일정은 3월 15일로 변경되었습니다.", "신규 기능은 베타 사용자에게 먼저 공개됩니다.",
]


def en_prose(n: int = 6) -> str:
    out = []
    for _ in range(n):
        out.append(EN.paragraph(nb_sentences=R.randrange(3, 8)))
        if R.random() < 0.3:  # prose with numbers in it
            out.append(f"In {R.randrange(1990, 2026)} revenue grew {R.randrange(1, 60)}% to ${R.randrange(10**5, 10**8):,}, "
                       f"with {R.randrange(100, 99999):,} customers across {R.randrange(2, 80)} countries (see section "
                       f"{R.randrange(1, 12)}.{R.randrange(1, 9)}).")
    return " ".join(out)


def ko_prose(n: int = 6) -> str:
    return " ".join(R.choice(KO_SENTENCES) for _ in range(n * 3))


def ean13(body: str) -> str:
    """A GS1 EAN-13 barcode number (12 digits + check digit): real barcodes always carry a valid check digit."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    return body + str((10 - total % 10) % 10)


def negatives() -> str:
    """A line of values that look sensitive and are not."""
    items = [
        EN.uuid4(), EN.sha1(), EN.sha256(), EN.md5(), dt().isoformat(), str(1_700_000_000 + R.randrange(10**8)),
        f"v{R.randrange(1, 20)}.{R.randrange(0, 30)}.{R.randrange(0, 99)}", f"ORD-{R.randrange(2019, 2027)}-{R.randrange(10**6):06d}",
        f"${R.randrange(1, 10000)}.{R.randrange(100):02d}", f"build {R.randrange(10**7, 10**8)}", str(R.randrange(10**5, 10**6)),
        "AKIAIOSFODNN7EXAMPLE", "4242 4242 4242 4242", "someone@example.com", "127.0.0.1", "8.8.8.8", "2001:db8::1",
        f"sha512-{base64.b64encode(R.randbytes(64)).decode()}", "password = os.environ['DB_PASSWORD']", "token: str",
        "max_tokens=4096", "i-am-a-slug", "sk-button-primary", f"{R.randrange(1, 28):02d}/{R.randrange(1, 12):02d}/2024",
        "192.0.2.10", "Bearer token required", "@types/node", "git@github.com:acme/app.git", "logo@2x.png",
        # digit runs that are ids, not PII: Snowflake ids, ms timestamps, ISBN-13, EAN-13, tracking numbers
        str(R.randrange(10**18, 2 * 10**18)), str(1_600_000_000_000 + R.randrange(10**11)), f"ISBN 978-{R.randrange(10**9):09d}-{R.randrange(10)}",
        f"EAN {ean13('880' + rs(string.digits, 9))}", f"1Z{rs('0123456789ABCDEF', 16)}",
        f"invoice {R.randrange(10**9, 10**10)}", f"{R.randrange(100, 999)}-{R.randrange(100, 999)}-{R.randrange(1000, 9999)}-{R.randrange(100, 999)}",
        f"lat {R.uniform(-90, 90):.6f} lon {R.uniform(-180, 180):.6f}", f"{R.randrange(10**6, 10**7)} bytes",
    ]
    return " ".join(R.sample(items, 6))


# ---------------------------------------------------------------- record shapes


def text_result(*blocks: Text) -> tuple[dict, list]:
    data = {"content": [{"type": "text", "text": str(b)} for b in blocks], "isError": False}
    labels = [(f"/content/{i}/text", s, e, t) for i, b in enumerate(blocks) for s, e, t in b.spans]
    return data, labels


def git_log() -> tuple[dict, list]:
    t = Text()
    for _ in range(R.randrange(3, 8)):
        name = R.choice([EN.name(), KO.name()])
        t.add(f"Commit: '{EN.sha1()}'\nAuthor: {name} <").val(email(), "email").add(">\n")
        t.add(f"Date: {dt().isoformat()}\nMessage: {EN.sentence()}\n\n")
    if R.random() < 0.3:
        t.add("diff --git a/.env b/.env\n+AWS_ACCESS_KEY_ID=").val(aws_key_id(), "aws_access_key_id")
        t.add("\n+AWS_SECRET_ACCESS_KEY=").val(aws_secret(), "aws_secret_access_key").add("\n")
    return text_result(t)


def sql_rows_text() -> tuple[dict, list]:
    t = Text().add("[")
    for i in range(R.randrange(3, 9)):
        t.add(f"{{'id': {R.randrange(1, 99999)}, 'name': '{R.choice([EN.name(), KO.name()])}', 'email': '").val(email(), "email")
        t.add("', 'phone': '").val(phone(), "phone").add("'")
        c = R.random()
        if c < 0.3:
            t.add(", 'rrn': '").val(rrn(), "kr_rrn").add("'")
        elif c < 0.5:
            t.add(", 'card': '").val(card(), "payment_card").add("'")
        elif c < 0.6:
            t.add(", 'ssn': '").val(ssn(), "us_ssn").add("'")
        t.add(f", 'created_at': '{dt().isoformat(sep=' ')}', 'amount': {R.randrange(100, 10**6)}}}, ")
    t.add("]")
    return text_result(t)


def sql_rows_json() -> tuple[dict, list]:
    rows, labels = [], []
    for i in range(R.randrange(3, 9)):
        row = {"id": R.randrange(1, 99999), "customer": KO.name(), "email": email(), "phone": phone(),
               "order_no": f"{R.randrange(2019, 2027)}{R.randrange(10**8):08d}", "created": dt().isoformat()}
        base = f"/structuredContent/rows/{i}"
        labels += [(f"{base}/email", 0, len(row["email"]), "email"), (f"{base}/phone", 0, len(row["phone"]), "phone")]
        k = R.random()
        if k < 0.25:
            row["iban"] = iban()
            labels.append((f"{base}/iban", 0, len(row["iban"]), "iban"))
        elif k < 0.45:
            row["business_no"] = brn()
            labels.append((f"{base}/business_no", 0, len(row["business_no"]), "kr_brn"))
        elif k < 0.6:
            row["national_id"] = national_id()
            labels.append((f"{base}/national_id", 0, len(row["national_id"]), "national_id"))
        elif k < 0.75:
            row["resident_no"] = rrn(dash=R.random() < 0.7)
            labels.append((f"{base}/resident_no", 0, len(row["resident_no"]), "kr_rrn"))
        rows.append(row)
    return {"content": [{"type": "text", "text": f"{len(rows)} rows"}], "structuredContent": {"rows": rows}}, labels


def env_file() -> tuple[dict, list]:
    t = Text().add(f"# {EN.sentence()}\nNODE_ENV=production\nPORT={R.randrange(3000, 9000)}\n")
    for typ in R.sample(sorted(SECRET_GENS), 4):
        name = {"aws_access_key_id": "AWS_ACCESS_KEY_ID", "jwt": "SESSION_JWT"}.get(typ, typ.upper())
        t.add(f"{name}=").val(SECRET_GENS[typ](), typ).add("\n")
    t.add("DB_PASSWORD=").val(password(), "generic_secret").add("\n")
    t.add("DATABASE_URL=postgres://app:").val(password().replace("#", "x").replace("%", "y"), "url_credentials")
    t.add("@").val(private_v4(), "private_ipv4").add(":5432/app\n")
    t.add("REDIS_URL=redis://default:").val(rs(B62, 24), "url_credentials").add("@cache.internal:6379/0\n")
    t.add(f"LOG_LEVEL=info\nTIMEOUT_MS={R.randrange(100, 9999)}\n")
    return text_result(t)


def yaml_config() -> tuple[dict, list]:
    t = Text().add(f"service: {EN.word()}\nversion: {R.randrange(1, 9)}.{R.randrange(0, 20)}.{R.randrange(0, 9)}\ndatabase:\n  host: ")
    t.val(private_v4(), "private_ipv4").add("\n  user: app\n  password: \"").val(password(), "generic_secret").add("\"\n")
    t.add("aws:\n  region: ").add(R.choice(REGIONS)).add("\n  access_key_id: ").val(aws_key_id(), "aws_access_key_id")
    t.add("\n  secret_access_key: ").val(aws_secret(), "aws_secret_access_key").add("\n")
    t.add("azure:\n  connection_string: \"")
    conn = f"DefaultEndpointsProtocol=https;AccountName={rs('abcdefghijklmnop', 10)};AccountKey={storage_key()};EndpointSuffix=core.windows.net"
    t.val(conn, "azure_connection_string").add("\"\n  client_secret: ").val(SECRET_GENS["azure_client_secret"](), "azure_client_secret")
    t.add("\n  storage_key: ").val(storage_key(), "azure_storage_key").add("\n")
    t.add(f"max_tokens: {R.randrange(256, 8192)}\ntoken_type: bearer\npassword_hint: \"{EN.word()}\"\n")
    return text_result(t)


def python_source() -> tuple[dict, list]:
    t = Text().add("import os\nimport requests\n\n")
    t.add(f"def {EN.word()}_client(password: str, token: str = None):\n    api_key = os.environ[\"API_KEY\"]\n")
    t.add("    password = get_password()\n    secret = self.secret\n")
    t.add("    headers = {\"Authorization\": \"Bearer ").val(rs(B62, 40), "bearer_token").add("\"}\n")
    if R.random() < 0.5:
        t.add("    STRIPE_KEY = \"").val(SECRET_GENS["stripe_key"](), "stripe_key").add("\"\n")
    t.add(f"    return requests.get(\"https://api.{EN.domain_name()}/v1/items\", headers=headers, timeout=30)\n")
    if R.random() < 0.4:
        t.add("\nPRIVATE_KEY = '''").val(private_key(), "private_key").add("'''\n")
    return text_result(t)


def http_response() -> tuple[dict, list]:
    t = Text().add(f"HTTP/1.1 200 OK\nDate: {dt().strftime('%a, %d %b %Y %H:%M:%S GMT')}\nContent-Type: application/json\n")
    t.add(f"X-Request-Id: {EN.uuid4()}\nSet-Cookie: session=").val(jwt_token(), "jwt").add("; HttpOnly\n\n")
    t.add("{\"user\": {\"name\": \"" + EN.name() + "\", \"email\": \"").val(email(), "email")
    t.add("\", \"phone\": \"").val(phone(), "phone").add("\"}, \"access_token\": \"").val(rs(B62 + "-_", 43), "generic_secret")
    t.add(f"\", \"token_type\": \"Bearer\", \"expires_in\": 3600, \"trace\": \"{EN.sha256()}\"}}")
    return text_result(t)


def aws_cli() -> tuple[dict, list]:
    inst, labels = [], []
    acct = account_id()
    for i in range(R.randrange(1, 4)):
        region = R.choice(REGIONS)
        d = {"InstanceId": res_id("i"), "ImageId": res_id("ami"), "SubnetId": res_id("subnet"), "VpcId": res_id("vpc"),
             "PrivateIpAddress": private_v4(), "SecurityGroups": [{"GroupId": res_id("sg"), "GroupName": "web"}],
             "BlockDeviceMappings": [{"Ebs": {"VolumeId": res_id("vol")}}], "LaunchTime": dt().isoformat(),
             "IamInstanceProfile": {"Arn": f"arn:aws:iam::{acct}:instance-profile/{EN.word()}-role"},
             "Placement": {"AvailabilityZone": region + "a"}, "Ipv6Address": private_v6()}
        base = f"/structuredContent/Reservations/0/Instances/{i}"
        for key, typ in (("InstanceId", "ec2_instance_id"), ("ImageId", "ami_id"), ("SubnetId", "subnet_id"),
                         ("VpcId", "vpc_id"), ("PrivateIpAddress", "private_ipv4"), ("Ipv6Address", "private_ipv6")):
            labels.append((f"{base}/{key}", 0, len(d[key]), typ))
        labels.append((f"{base}/SecurityGroups/0/GroupId", 0, len(d["SecurityGroups"][0]["GroupId"]), "security_group_id"))
        labels.append((f"{base}/BlockDeviceMappings/0/Ebs/VolumeId", 0, len(d["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]), "ebs_volume_id"))
        labels.append((f"{base}/IamInstanceProfile/Arn", 0, len(d["IamInstanceProfile"]["Arn"]), "aws_arn"))
        inst.append(d)
    data = {"Reservations": [{"OwnerId": acct, "Instances": inst}]}
    labels.append(("/structuredContent/Reservations/0/OwnerId", 0, 12, "aws_account_id"))
    return {"content": [{"type": "text", "text": "ok"}], "structuredContent": data}, labels


def infra_text() -> tuple[dict, list]:
    t = Text().add(f"[{dt().isoformat()}] deploy started by ").val(email(), "email").add("\n")
    t.add("snapshot ").val(res_id("snap"), "ebs_snapshot_id").add(" of ").val(res_id("vol"), "ebs_volume_id").add(" completed\n")
    b = bucket()
    t.add("uploading to s3://").val(b, "s3_bucket").add(f"/releases/{EN.file_name()}\n")
    b2 = bucket()
    t.add("assets: https://").val(b2, "s3_bucket").add(f".s3.{R.choice(REGIONS)}.amazonaws.com/{EN.file_name()}\n")
    region = R.choice(REGIONS)
    host = f"{EN.word().lower()}-db.{rs('abcdefghijklmnopqrstuvwxyz0123456789', 12)}.{region}.rds.amazonaws.com"
    t.add("db endpoint: ").val(host, "rds_endpoint").add(f":5432 (engine postgres 15.{R.randrange(1, 9)})\n")
    t.add("AWS account ").val(account_id(), "aws_account_id").add(f" region {region}\n")
    t.add("role: ").val(f"arn:aws:iam::{account_id()}:role/{EN.word()}-deployer", "aws_arn").add("\n")
    t.add("peer ").val(private_v4(), "private_ipv4").add(" via ").val(private_v6(), "private_ipv6").add(f" ok, latency {R.randrange(1, 90)}ms\n")
    t.add(negatives() + "\n")
    return text_result(t)


def listing() -> tuple[dict, list]:
    t = Text()
    for _ in range(R.randrange(8, 20)):
        t.add(R.choice(["[FILE] ", "[DIR] "]) + EN.file_path(depth=R.randrange(1, 4)).lstrip("/") + "\n")
    t.add(f"[FILE] backup-{dt().strftime('%Y%m%d')}.sql.gz\n")
    return text_result(t)


def log_lines() -> tuple[dict, list]:
    t = Text()
    for _ in range(R.randrange(10, 25)):
        ts = dt().isoformat()
        k = R.random()
        t.add(f"{ts} INFO req={EN.uuid4()} ")
        if k < 0.15:
            t.add("login ok user=").val(email(), "email").add(" from ").val(private_v4(), "private_ipv4").add("\n")
        elif k < 0.2:
            t.add("callback Authorization: Bearer ").val(rs(B62 + "._-", 36), "bearer_token").add("\n")
        elif k < 0.25:
            t.add("payment ok card=").val(card(), "payment_card").add(f" amount={R.randrange(1000, 99999)}\n")
        else:
            t.add(f"GET /api/v{R.randrange(1, 3)}/items/{R.randrange(10**6)} 200 {R.randrange(1, 900)}ms {negatives()}\n")
    return text_result(t)


def blob() -> tuple[dict, list]:
    data = base64.b64encode(R.randbytes(R.randrange(3000, 9000))).decode()
    return {"content": [{"type": "image", "data": data, "mimeType": "image/png"},
                        {"type": "text", "text": f"sha256 {EN.sha256()} size {len(data)}"}]}, []


def secrets_doc() -> tuple[dict, list]:
    """Secrets in running text (chat, tickets, READMEs)."""
    t = Text().add(EN.sentence() + " ")
    for typ in R.sample(sorted(SECRET_GENS), 5):
        t.add(R.choice(["Use ", "the key is ", "rotate ", "found ", "leaked: "])).val(SECRET_GENS[typ](), typ).add(". ")
    t.add("\nconnect with mysql://root:").val(password().replace("@", "a").replace("/", "b"), "url_credentials").add(f"@{EN.domain_name()}/db\n")
    t.add("curl -H 'Authorization: Bearer ").val(rs(B62, 32), "bearer_token").add(f"' https://api.{EN.domain_name()}\n")
    if R.random() < 0.5:
        t.add("-----\n").val(private_key(), "private_key").add("\n")
    t.add(negatives())
    return text_result(t)


def pii_text() -> tuple[dict, list]:
    t = Text()
    if R.random() < 0.5:
        nm = KO.name()
        t.add(f"고객 {nm}님의 연락처는 ").val(phone(), "phone").add("이고, 이메일은 ").val(email(), "email").add("입니다. ")
        t.add("주민등록번호: ").val(rrn(dash=R.random() < 0.8), "kr_rrn").add(f". 주소: {KO.address()}. ")
        t.add("사업자등록번호 ").val(brn(), "kr_brn").add(" 확인 완료. " + ko_prose(1))
    else:
        t.add(f"Customer {EN.name()} ({EN.address().replace(chr(10), ', ')}) called from ").val(phone(), "phone")
        t.add(". SSN on file: ").val(ssn(), "us_ssn").add(". Refund to IBAN ").val(iban(), "iban")
        t.add(" or card ").val(card(), "payment_card").add(". Contact: ").val(email(), "email").add(". " + en_prose(1))
    t.add(" " + negatives())
    return text_result(t)


def prose() -> tuple[dict, list]:
    return text_result(Text().add(en_prose(8) if R.random() < 0.7 else ko_prose(10)))


# ---------------------------------------------------------------- encoded values (mcpguard.detect.decode)


def _b64_span(blob_start: int, plain: str, value: str) -> tuple[int, int]:
    """The span of the base64 groups that encode ``value`` inside base64(``plain``) (RFC 4648 §4: 3 bytes per
    4 characters), as the engine reports it."""
    raw = plain.encode()
    bs = raw.index(value.encode())
    be = bs + len(value.encode())
    n = len(base64.b64encode(raw))
    return blob_start + 4 * (bs // 3), blob_start + min(n, 4 * -(-be // 3))


def _escape_one(encoding: str, c: str) -> str:
    if encoding == "percent":
        return "".join(f"%{b:02X}" for b in c.encode())
    if encoding == "escape":
        return f"\\u{ord(c):04x}"
    return f"&#{ord(c)};" if R.random() < 0.7 else f"&#x{ord(c):x};"


def _escaped(encoding: str, value: str) -> str:
    """``value`` with its punctuation (and, at random, some letters) escaped in ``encoding``."""
    return "".join(_escape_one(encoding, c) if not c.isalnum() or ord(c) > 127 or R.random() < 0.2 else c
                   for c in value)


def encoded_text() -> tuple[dict, list]:
    """Values that reach a tool result percent-encoded, JSON-escaped twice, as HTML entities, base64 or hex."""
    t = Text()
    for _ in range(R.randrange(2, 5)):
        encoding = R.choice(["percent", "escape", "html", "base64", "hex"])
        typ = R.choice(["email", "email", "aws_access_key_id", "github_token", "jwt", "phone", "kr_rrn"])
        value = {"email": email, "aws_access_key_id": aws_key_id, "github_token": gh_token, "jwt": jwt_token,
                 "phone": phone, "kr_rrn": rrn}[typ]()
        context = {"phone": "phone: ", "kr_rrn": "주민등록번호 "}.get(typ, "")
        if encoding in ("percent", "escape", "html"):
            lead = {"percent": "GET /callback?next=%2Fhome&q=", "escape": '{"raw": "{\\"note\\": \\"',
                    "html": "<td>"}[encoding]
            t.add(lead + _escaped(encoding, context)).val(_escaped(encoding, value), typ)
            t.add({"percent": "&lang=ko HTTP/1.1\n", "escape": '\\"}"}\n', "html": "</td>\n"}[encoding])
        elif encoding == "base64":
            plain = f"{context}{value}" if R.random() < 0.5 else f"# {EN.sentence()}\nOWNER={context}{value}\nDEBUG=0\n"
            blob = base64.b64encode(plain.encode()).decode()
            t.add("payload (base64): ")
            s, e = _b64_span(t.n, plain, value)
            t.spans.append((s, e, typ))
            t.add(blob + "\n")
        else:
            plain = f"{context}{value}"
            t.add("hex dump: ")
            bs = len(context.encode())
            t.spans.append((t.n + 2 * bs, t.n + 2 * (bs + len(value.encode())), typ))
            t.add(plain.encode().hex() + "\n")
    # Hard negatives: hex and base64 that decode to binary, and a UUID.
    t.add(f"etag {EN.sha256()} id {EN.uuid4().replace('-', '')} integrity sha384-{base64.b64encode(R.randbytes(48)).decode()}\n")
    return text_result(t)


SHAPES = {
    "prose": [(prose, 1.0)],
    "digit": [(sql_rows_text, 0.3), (sql_rows_json, 0.25), (log_lines, 0.25), (aws_cli, 0.2)],
    "secret": [(env_file, 0.3), (yaml_config, 0.2), (python_source, 0.2), (secrets_doc, 0.3)],
    "mcp": [(git_log, 0.25), (http_response, 0.2), (listing, 0.15), (infra_text, 0.2), (pii_text, 0.15), (blob, 0.05)],
    # Last, so adding it left every earlier record as it was.
    "encoded": [(encoded_text, 1.0)],
}
COUNTS = {"prose": 600, "digit": 300, "secret": 220, "mcp": 420, "encoded": 80}


def main() -> None:
    records, labels = [], []
    rid = 0
    for mix, shapes in SHAPES.items():
        fns, weights = zip(*shapes)
        for _ in range(COUNTS[mix]):
            fn = R.choices(fns, weights)[0]
            data, spans = fn()
            records.append({"record": rid, "mix": mix, "source": fn.__name__, "data": data})
            for path, s, e, typ in spans:
                labels.append({"record": rid, "path": path, "start": s, "end": e, "type": typ})
            rid += 1
    with open(HERE / "records.jsonl", "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    with open(HERE / "labels.jsonl", "w", encoding="utf-8") as fh:
        for lab in labels:
            fh.write(json.dumps(lab, sort_keys=True) + "\n")
    print(f"{len(records)} records, {len(labels)} labels")


if __name__ == "__main__":
    main()
