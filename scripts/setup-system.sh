#!/usr/bin/env bash
# System packages the tests and benchmarks use, from Debian's apt (run as root; idempotent):
#   osmium-tool       independent OSM decoder the PBF reader is cross-checked against
#   gdal-bin          ogr2ogr, to write Shapefile fixtures (GBK) in tests
#   python3-networkx  independent Dijkstra the reach engine is cross-checked and benchmarked against
#   postgresql-15 + postgis + pgrouting   pgr_drivingDistance, the other peer (started by setup-postgres.sh)
#   chromium          headless browser the HTML report is opened in (test/report/html.test.ts, via playwright-core)
#   fonts-noto-cjk    Chinese glyphs, so the report screenshots the tests take are legible
set -euo pipefail
export DEBIAN_FRONTEND="${DEBIAN_FRONTEND:-noninteractive}"
PACKAGES=(osmium-tool python3-networkx gdal-bin postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting chromium fonts-noto-cjk)

if [ "$(id -u)" -ne 0 ]; then
  echo "[setup-system] run as root (apt-get); or install these yourself: ${PACKAGES[*]}" >&2
  exit 1
fi
missing=()
for p in "${PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = "installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[setup-system] installing: ${missing[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash "$(dirname "$0")/setup-postgres.sh"
