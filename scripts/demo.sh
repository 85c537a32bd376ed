#!/usr/bin/env bash
# The gitprov demo, end to end, in a scratch directory (nothing outside it is touched
# except .venv/ in this repository). Each step prints the command it runs.
#
# Today it shows: 'gitprov init' in a repository that already has a team hook, the hooks
# running on real commits and pushes (the team's hook still runs and still blocks),
# tracking a generated dataset and a checkpoint (snapshot ID, status after changes,
# verified checkout), 'gitprov doctor' catching and fixing a remote added later, 'git push'
# uploading artifacts to a local-directory store before the refs move, a second clone
# pulling them (verified) with the notes, training a tiny model and fine-tuning it through
# 'gitprov run' with 'gitprov log --lineage' and a Mermaid lineage graph, a decision record
# with its measured outcome, an evaluation with confidence intervals, a model card, the release
# checklist blocking then passing a release candidate, a signed approval, a signed release
# and its tag, a static HTML provenance report, a pull-request review of the whole history,
# and 'gitprov uninstall'
# restoring exactly what was there. Each capability extends it.
set -euo pipefail
. "$(dirname "$0")/bootstrap.sh" ""

work=$(mktemp -d "${TMPDIR:-/tmp}/gitprov-demo.XXXXXX")
# A private git identity and config, so the demo neither reads nor changes yours.
export GIT_CONFIG_GLOBAL="$work/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name "Demo User"
git config --global user.email "demo@example.com"
git config --global init.defaultBranch main
export GITPROV_TRACE="$work/hooks.jsonl"  # the hook entry point logs each hook it runs

bold=$(printf '\033[1m') plain=$(printf '\033[0m')
[ -t 1 ] || { bold=""; plain=""; }
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
step() { printf '%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }
expect_failure() { printf '%s$ %s%s\n' "$bold" "$*" "$plain"; if "$@"; then echo "demo: expected that to fail" >&2; exit 1; fi; }
hooks_ran() {
    python - "$GITPROV_TRACE" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print("   hooks that ran: " + ", ".join(f"{r['hook']} ({r['ms']:.0f} ms in gitprov)" for r in runs))
PY
    : > "$GITPROV_TRACE"
}

say "A project with a team hook that refuses files marked DO NOT COMMIT"
cd "$work"
step git init -q --bare origin.git
step git init -q project
cd project
cat > .git/hooks/pre-commit <<'HOOK'
#!/bin/sh
if git diff --cached | grep -q 'DO NOT COMMIT'; then
    echo "team hook: a staged file says DO NOT COMMIT" >&2
    exit 1
fi
HOOK
chmod +x .git/hooks/pre-commit
echo "print('train')" > train.py
step git add train.py
step git commit -q -m "Training script"

say "gitprov init: config, .gitignore rules, notes settings, hooks (the team hook is kept)"
step gitprov init
step git add .gitprov/config.toml .gitprov/checklist.toml .gitignore
step git commit -q -m "Set up gitprov"
hooks_ran

say "The team hook still runs through gitprov's shim, and still blocks"
echo "# DO NOT COMMIT" >> train.py
step git add train.py
expect_failure git commit -q -m "Should be refused"
step git checkout -q HEAD -- train.py
: > "$GITPROV_TRACE"

say "Track a generated dataset and a checkpoint: pointers go in git, bytes in the cache"
python - <<'PY'
import os, random
rnd = random.Random(7)
for split in ("train", "valid"):
    for i in range(50):
        os.makedirs(f"data/{split}", exist_ok=True)
        with open(f"data/{split}/shard-{i:03d}.csv", "w") as out:
            out.writelines(f"{rnd.random():.6f},{rnd.randint(0, 9)}\n" for _ in range(200))
os.makedirs("models", exist_ok=True)
with open("models/m.pt", "wb") as out:
    out.write(rnd.randbytes(4 * 1024 * 1024))
PY
step gitprov track data models/m.pt
step cat data.gitprov
step git commit -q -m "Track the dataset and the checkpoint"
hooks_ran

say "Change the data: status says exactly what changed, without re-reading the rest"
echo "0.5,1" >> data/train/shard-007.csv
rm data/valid/shard-049.csv
step gitprov status
expect_failure gitprov checkout
step gitprov checkout --force data
step gitprov status
step gitprov verify
: > "$GITPROV_TRACE"

say "Train a tiny model through 'gitprov run': inputs by digest, outputs tracked, a run record committed"
cat > train_tiny.py <<'PY'
# A tiny logistic regression in pure Python: learns the label (0-9 > 4) from one feature.
import json, math, pathlib, random, sys
lr, epochs, seed = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rows = [line.split(",") for f in sorted(pathlib.Path("data/train").glob("*.csv")) for line in f.read_text().split()]
xs, ys = [float(a) for a, _ in rows], [1.0 if int(b) > 4 else 0.0 for _, b in rows]
rnd = random.Random(seed)
w, b = rnd.uniform(-0.1, 0.1), 0.0
for _ in range(epochs):
    for x, y in zip(xs, ys):
        p = 1 / (1 + math.exp(-(w * x + b)))
        w, b = w - lr * (p - y) * x, b - lr * (p - y)
acc = sum((1 / (1 + math.exp(-(w * x + b))) > 0.5) == (y == 1.0) for x, y in zip(xs, ys)) / len(xs)
pathlib.Path("models").mkdir(exist_ok=True)
pathlib.Path("models/tiny.pt").write_text(json.dumps({"w": w, "b": b}))
pathlib.Path("metrics.json").write_text(json.dumps({"train_accuracy": acc, "n": len(xs)}))
print(f"trained on {len(xs)} rows: w={w:.4f} b={b:.4f} accuracy={acc:.3f}")
PY
cat > finetune.py <<'PY'
# Fine-tunes tiny.pt: nudges the bias towards the majority label, written as a new checkpoint.
import json, math, pathlib
weights = json.loads(pathlib.Path("models/tiny.pt").read_text())
rows = [line.split(",") for f in sorted(pathlib.Path("data/train").glob("*.csv")) for line in f.read_text().split()]
xs, ys = [float(a) for a, _ in rows], [1.0 if int(b) > 4 else 0.0 for _, b in rows]
def accuracy(w, b):
    return sum((1 / (1 + math.exp(-(w * x + b))) > 0.5) == (y == 1.0) for x, y in zip(xs, ys)) / len(xs)
best = max((weights["b"] + d / 100 for d in range(-50, 51)), key=lambda b: accuracy(weights["w"], b))
weights["b"] = best
pathlib.Path("models/tuned.pt").write_text(json.dumps(weights))
acc, n = accuracy(weights["w"], best), len(xs)
# A 95% Wilson score interval for the accuracy (a proportion of n rows).
z, k = 1.96, round(acc * n)
centre, half = (k + z * z / 2) / (n + z * z), z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
pathlib.Path("metrics.json").write_text(json.dumps({"train_accuracy": acc, "train_accuracy_n": n,
    "train_accuracy_ci_low": round(centre - half, 4), "train_accuracy_ci_high": round(centre + half, 4)}))
print(f"fine-tuned models/tiny.pt -> models/tuned.pt: accuracy={accuracy(weights['w'], best):.3f}")
PY
echo "metrics.json" >> .gitignore
step git add train_tiny.py finetune.py .gitignore
step git commit -q -m "Tiny model: training and fine-tuning scripts"
: > "$GITPROV_TRACE"
step gitprov run -i data -o models/tiny.pt -p lr=0.5 -p epochs=3 --seed 7 --metrics metrics.json \
    -m "Train the tiny model" -- python train_tiny.py 0.5 3 7
say "Why the next run: a decision record, then the run that references it"
step gitprov decision new "Fine-tune with a smaller bias" --metric train_accuracy --expect increase --no-edit
decision=$(cd decisions && ls | head -1 | cut -c1-6)
step gitprov decision accept "$decision"
step git add decisions
step git commit -q -m "Decision $decision: fine-tune with a smaller bias"
step gitprov run -i models/tiny.pt -i data -o models/tuned.pt --metrics metrics.json -m "Fine-tune the tiny model

Decision: $decision" -- python finetune.py
hooks_ran
step git log --oneline -3
step cat models/tuned.pt.gitprov

say "gitprov log --lineage: for each commit, its run, inputs, outputs, decisions, environment, checklist"
step gitprov log --lineage -n 5

say "The decision's outcome: link both runs, then compare the metric it was meant to move"
train_run=$(git log -1 --format=%B HEAD~2 | sed -n 's/^Gitprov-Run: //p')
tune_run=$(git log -1 --format=%B HEAD | sed -n 's/^Gitprov-Run: //p')
step gitprov decision link "$decision" --run "$train_run" --run "$tune_run" --commit HEAD
step gitprov decision outcome "$decision" --actual "Searched the bias on the training data" \
    --why "The logistic weight barely moved; the bias carried the gain"
step gitprov decision show "$decision"
step git add decisions
step git commit -q -m "Decision $decision: outcome recorded"
step gitprov decision list

say "The lineage of the fine-tuned checkpoint, upstream to the dataset, as a Mermaid graph"
step gitprov lineage models/tuned.pt
step gitprov lineage models/tuned.pt --format mermaid
step gitprov lineage data --downstream

say "A model card for the fine-tuned checkpoint, pre-filled from its lineage"
step gitprov card new models/tuned.pt --license apache-2.0
step gitprov card validate models/tuned.pt
sed -n '1,/^---$/{p}' models/tuned.card.md | head -40
step git add models/tuned.card.md models/tuned.pt.gitprov
step git commit -q -m "Model card for the fine-tuned checkpoint"

say "Evaluate the fine-tuned checkpoint on held-out rows: a note record with confidence intervals"
cat > evaluate.py <<'PY'
# Scores models/tuned.pt on data/valid, one JSON line per example: correct (0/1) and log loss.
import json, math, pathlib, sys
weights = json.loads(pathlib.Path("models/tuned.pt").read_text())
out = pathlib.Path(sys.argv[1])
out.parent.mkdir(exist_ok=True)
with out.open("w") as scores:
    for shard in sorted(pathlib.Path("data/valid").glob("*.csv")):
        for i, line in enumerate(shard.read_text().split()):
            x, label = float(line.split(",")[0]), int(line.split(",")[1]) > 4
            p = min(max(1 / (1 + math.exp(-(weights["w"] * x + weights["b"]))), 1e-9), 1 - 1e-9)
            row = {"id": f"{shard.stem}:{i}", "correct": int((p > 0.5) == label),
                   "log_loss": -math.log(p if label else 1 - p), "label": int(label)}
            scores.write(json.dumps(row) + "\n")
PY
echo "eval/" >> .gitignore
step git add evaluate.py .gitignore
step git commit -q -m "Evaluation script"
step gitprov eval run models/tuned.pt --dataset data --split valid --scores eval/scores.jsonl \
    --slice label -- python evaluate.py eval/scores.jsonl
step gitprov eval list models/tuned.pt
say "The card picks the evaluation up: its interval, n, method and environment in model-index"
step gitprov card sync models/tuned.pt
sed -n '/^model-index:/,/^gitprov:/p' models/tuned.card.md | head -60

say "Mark the checkpoint for release: from now on the pre-commit hook enforces the release checklist"
python - <<'PY'
import pathlib
path = pathlib.Path("models/tuned.pt.gitprov")
text = path.read_text()
path.write_text(text.replace("\n[meta]", 'stage = "release"\n\n[meta]', 1))
PY
step grep stage models/tuned.pt.gitprov
expect_failure git commit -q -am "Release candidate: the fine-tuned model"
expect_failure gitprov check models/tuned.pt

say "Complete the release: the card's prose, the data's license"
python - <<'PY'
import pathlib, re
card = pathlib.Path("models/tuned.card.md")
prose = {
    "Model Description": "Logistic regression on one feature: is a digit greater than 4?",
    "Direct Use": "Teaching and testing gitprov: a model small enough to read.",
    "Downstream Use": "None: retrain it for anything real.",
    "Out-of-Scope Use": "Any decision about people or money; any digit outside 0-9.",
    "Bias, Risks, and Limitations": "Trained and evaluated on the same 60 generated rows: the accuracy is optimistic and says nothing about other data.",
    "Recommendations": "Evaluate on held-out data before trusting a number.",
    "How to Get Started with the Model": "json.load the weights; predict 1 when w*x+b > 0.",
    "Testing Data, Factors & Metrics": "The training rows (no held-out set), accuracy with a 95% Wilson interval.",
    "Citation": "None.",
    "Model Card Contact": "demo@example.com",
}
lines, section = [], ""
for line in card.read_text().split("\n"):
    if line.startswith("#"):
        section = line.lstrip("#").strip()
    if "[More Information Needed]" in line:
        line = line.replace("[More Information Needed]", prose.get(section, "Demo value"))
    lines.append(line)
card.write_text("\n".join(lines))
data = pathlib.Path("data.gitprov")
data.write_text(data.read_text().rstrip("\n") + '\nlicense = "CC0-1.0"\n')
PY
step gitprov card validate models/tuned.pt
step gitprov check models/tuned.pt

if command -v ssh-keygen >/dev/null 2>&1; then
    say "A signed approval is required too: the reviewer signs with their SSH key, anyone verifies offline"
    step ssh-keygen -q -t ed25519 -N "" -C demo@example.com -f "$work/reviewer-key"
    git config gpg.format ssh
    git config user.signingkey "$work/reviewer-key"
    printf '[roles]\nreviewer = ["Demo User <demo@example.com>"]\n' > .gitprov/owners.toml
    printf 'demo@example.com namespaces="gitprov" %s\n' "$(cut -d' ' -f1,2 "$work/reviewer-key.pub")" > .gitprov/allowed_signers
    sed -i 's/^required = \[\]/required = ["reviewer"]/' .gitprov/checklist.toml
    step git add .gitprov/owners.toml .gitprov/allowed_signers .gitprov/checklist.toml
    step git commit -q -m "Reviewers and their keys; releases need a reviewer's approval"
    expect_failure git commit -q -am "Release candidate: the fine-tuned model"
    step gitprov approve models/tuned.pt --role reviewer --comment "Card and metrics checked"
    step gitprov approvals models/tuned.pt
else
    say "Signed approvals need ssh-keygen (OpenSSH), which this machine lacks: skipped"
fi
step git commit -q -am "Release candidate: the fine-tuned model"
step git notes --ref=gitprov show HEAD

say "A remote added after init: doctor notices the missing notes refspec and fixes it"
step git remote add origin ../origin.git
expect_failure gitprov doctor
step gitprov doctor --fix

say "An artifact remote (a plain directory here; s3://bucket/prefix works the same)"
step gitprov remote add origin ../artifact-store
step git add .gitprov/config.toml
step git commit -q -m "Artifacts go to ../artifact-store"

say "git push: pre-push uploads every artifact the new commits name, then syncs notes, then the refs move"
step git push -u origin main
hooks_ran
step git --git-dir=../origin.git log --oneline main
step git --git-dir=../origin.git notes --ref=gitprov show main

say "Nothing new to send: the hook makes no storage request"
echo "print('train v2')" > train.py
step git commit -q -am "Code only"
step env GITPROV_VERBOSE=1 git push -q origin main

if command -v ssh-keygen >/dev/null 2>&1; then
    say "Release: checklist passed, bytes on the artifact remote; a signed verification summary and a tag"
    step gitprov release models/tuned.pt --version 1.0.0 -m "First release of the tuned model"
    step gitprov releases
    step git push -q origin tuned-v1.0.0
    step git --git-dir=../origin.git tag --list
    say "A hand-made release tag (no signed record behind it) is refused by pre-push"
    git tag -a tuned-v9.9.9 -m "Not a release" -m "Gitprov-Release: 01DEMO00000000000000000000"
    expect_failure git push -q origin tuned-v9.9.9
    git tag -d tuned-v9.9.9 >/dev/null
fi

say "The provenance report: a static HTML site of everything above (docs/report.md)"
step gitprov report --out "$work/report"
echo "   open $work/report/index.html"

say "A second clone pulls: notes merged, artifacts fetched, verified, restored"
cd "$work"
step git clone -q origin.git teammate
cd teammate
step gitprov init
step gitprov pull
step gitprov verify
step git notes --ref=gitprov show HEAD~1
cmp models/m.pt ../project/models/m.pt && echo "   models/m.pt is byte-identical in both clones"
cd "$work/project"

say "gitprov review: the project's history as one pull-request comment (Markdown, ready for GitHub)"
step gitprov review "$(git rev-list --max-parents=0 HEAD)..HEAD"

say "gitprov uninstall restores exactly what was there"
step gitprov uninstall
step ls .git/hooks/ --ignore='*.sample'
step cat .git/hooks/pre-commit

say "Done. The demo repository is kept for you to explore: $work/project"
