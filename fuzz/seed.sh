#!/usr/bin/env bash
# Lays out the seed corpus of every fuzz target in fuzz/corpus/<target>/ from the test tables:
#   verify_text         tests/exposition/text/*.txt
#   verify_openmetrics  tests/exposition/openmetrics/*.txt
#   verify_protobuf     delimited MetricFamily bodies written by gen_protobuf_seeds.py
#   verify_gzip         a few text, OpenMetrics and protobuf bodies, gzipped
#   config              tests/config/*.yaml, plus a few web configs
# Each verifier seed gets a first byte (the targets read it as where to cut the body), so the
# seeds are the table bodies exactly. The corpus is generated, never committed (.gitignore).
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$fuzz")"
corpus="$fuzz/corpus"

# seed SRC DEST: DEST is SRC behind one byte that cuts it near the middle.
seed() { { printf '\x80'; cat "$1"; } >"$2"; }

mkdir -p "$corpus"/{verify_text,verify_openmetrics,verify_protobuf,verify_gzip,config}

for f in "$repo"/tests/exposition/text/*.txt; do
  seed "$f" "$corpus/verify_text/seed_$(basename "$f")"
done
for f in "$repo"/tests/exposition/openmetrics/*.txt; do
  seed "$f" "$corpus/verify_openmetrics/seed_$(basename "$f")"
done

pb="$(mktemp -d)"
trap 'rm -rf "$pb"' EXIT
python3 "$fuzz/gen_protobuf_seeds.py" "$pb"
for f in "$pb"/*.pb; do
  seed "$f" "$corpus/verify_protobuf/seed_$(basename "$f")"
done

# gzip: the verify_gzip target checks each body as text, OpenMetrics and protobuf.
gz() { { printf '\x80'; gzip -9nc "$1"; } >"$corpus/verify_gzip/seed_$2.gz"; }
n=0
for f in "$repo"/tests/exposition/text/*.good.txt; do
  gz "$f" "text_$(basename "$f")"
  n=$((n + 1)); if [ "$n" -ge 8 ]; then break; fi
done
for f in "$repo"/tests/exposition/text/*.bad.txt; do
  gz "$f" "text_$(basename "$f")"
  n=$((n + 1)); if [ "$n" -ge 12 ]; then break; fi
done
for f in "$repo"/tests/exposition/openmetrics/*.good.txt; do
  gz "$f" "om_$(basename "$f")"
  n=$((n + 1)); if [ "$n" -ge 16 ]; then break; fi
done
for f in "$pb"/*.pb; do
  gz "$f" "pb_$(basename "$f")"
done
# Two gzip members back to back (Go's reader, and the verifier, read on across members).
goods=("$repo"/tests/exposition/text/*.good.txt)
{ printf '\x80'; gzip -nc "${goods[0]}"; gzip -nc "${goods[0]}"; } >"$corpus/verify_gzip/seed_two_members.gz"

for f in "$repo"/tests/config/*.yaml; do
  cp "$f" "$corpus/config/seed_$(basename "$f")"
done
cat >"$corpus/config/seed_web_tls.yml" <<'YAML'
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: ["client.example"]
  min_version: TLS12
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [X25519]
  prefer_server_cipher_suites: true
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi
YAML
cat >"$corpus/config/seed_web_basic.yml" <<'YAML'
basic_auth_users:
  alice: $2b$04$Y3cSzNLQbNG9jV8Hx8tLh.ckGTwYw.QyzU8m1C6j9Nf9Sx8mM1mYG
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
YAML
echo "seeded: $(for d in "$corpus"/*/; do printf '%s=%s ' "$(basename "$d")" "$(ls "$d" | wc -l)"; done)"
