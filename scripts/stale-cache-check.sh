#!/usr/bin/env bash
# Issue 17, the stale-cache scenario: run a tiny experiment on a dataset folder, edit the folder in
# place (every image replaced by one picture, every user's timestamps reversed), rerun on the same
# cache, then run once more on a fresh cache. With content keys the rerun must rebuild everything
# and give the fresh-cache numbers. Usage: scripts/stale-cache-check.sh [REPO] (default: this repo).
set -euo pipefail
REPO=${1:-$(cd "$(dirname "$0")/.." && pwd)}
W=$(mktemp -d /tmp/auv-stale-XXXX)
CLI="node --import tsx $REPO/src/cli/main.ts --quiet"
cd "$REPO"
$CLI data synth --profile tiny --seed 3 --out "$W/ds" >/dev/null
cat > "$W/tiny.yaml" <<YAML
name: stale cache check
dataset: $W/ds
seeds: [1]
maxTargets: 2
evalUsers: 50
encoders: { victim: { epochs: 1 }, surrogate: { epochs: 1 }, semantic: { epochs: 1 } }
victims: [vbpr]
victimConfig: { epochs: 2 }
detector: false
attacks: [{ name: none }, { name: random, params: { budget: 32 } }]
YAML
summary() { # vbpr test HR@10, random SSIM, cache hits/misses
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1] + "/results.json", "utf8"));
    const f = (p) => r.rows.find((x) => Object.entries(p).every(([k, v]) => x[k] === v));
    const hr = f({ victim: "vbpr", protocol: "test", metric: "HR", k: 10 }), ss = f({ attack: "random", metric: "SSIM" });
    console.log(`${process.argv[2]}: vbpr test HR@10 ${hr.mean.toFixed(3)}, random SSIM ${ss.mean.toFixed(3)}, cache hits ${r.manifest.cache.hits} misses ${r.manifest.cache.misses}`);
  ' "$1" "$2"
}
run() { local t0=$(date +%s.%N); $CLI run "$W/tiny.yaml" --set cacheDir="$2" --set out="$1" >/dev/null; echo "  ($(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s)"; }
run "$W/o1" "$W/cache"; summary "$W/o1" "first run            "
# edit in place: one picture for every item, timestamps reversed
first=$(ls "$W/ds/images" | head -1)
for f in "$W/ds/images/"*.png; do [ "$(basename "$f")" = "$first" ] || cp "$W/ds/images/$first" "$f"; done
awk -F, 'NR==1 {print; next} {print $1 "," $2 "," (2000000000 - $3)}' "$W/ds/interactions.csv" > "$W/i.csv" && mv "$W/i.csv" "$W/ds/interactions.csv"
run "$W/o2" "$W/cache"; summary "$W/o2" "edited, same cache   "
run "$W/o3" "$W/cache"; summary "$W/o3" "edited, warm rerun   "
run "$W/o4" "$W/fresh"; summary "$W/o4" "edited, fresh cache  "
rm -rf "$W"
