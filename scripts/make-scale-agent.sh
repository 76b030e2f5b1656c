#!/usr/bin/env bash
# Writes a 150-intent Dialogflow ES export for the scale figures (`bench nlu --agent OUT`):
# Banking77's 77 intents (100 training phrases each, seeded sample, through `switchboard eval
# --write-export`) plus 73 "business banking" twins whose phrases open with a business cue, so the
# agent has the shape of a large contact-centre agent (150 intents, ~14,500 annotated phrases).
# Usage: scripts/make-scale-agent.sh OUT_DIR   (needs target/release/switchboard and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: $0 OUT_DIR}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
./target/release/switchboard eval --dataset ../shared/datasets/banking77 --train-per-intent 100 \
  --seed 1 --test-fraction 0.01 --write-export "$tmp/b77" >/dev/null
python3 - "$tmp/b77" "$out" <<'PY'
import json, os, shutil, sys, uuid
src, dst = sys.argv[1], sys.argv[2]
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst)
cues = ["for my business account, ", "on our company account ", "business banking: ",
        "for the company card, ", "at my firm we need to know: ", "on the business card ",
        "for our corporate account, ", "business question - ", "my company's account: ",
        "for the shop's account, "]
d = os.path.join(dst, "intents")
names = sorted(f[:-5] for f in os.listdir(d)
               if f.endswith(".json") and "_usersays_" not in f and "Fallback" not in f)
for n in names[:73]:
    intent = json.load(open(os.path.join(d, n + ".json")))
    says = json.load(open(os.path.join(d, n + "_usersays_en.json")))
    twin = "business_" + n
    intent["name"] = twin
    intent["id"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, twin))
    for i, s in enumerate(says):
        s["id"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, twin + str(i)))
        s["data"][0]["text"] = cues[i % len(cues)] + s["data"][0]["text"]
    json.dump(intent, open(os.path.join(d, twin + ".json"), "w"))
    json.dump(says, open(os.path.join(d, twin + "_usersays_en.json"), "w"))
n = sum(len(json.load(open(os.path.join(d, f)))) for f in os.listdir(d) if "_usersays_" in f)
print(f"{dst}: {len(names) + 73} intents, {n} training phrases")
PY
