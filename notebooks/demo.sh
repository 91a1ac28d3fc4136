#!/usr/bin/env bash
# The end of `make demo`: the example notebook's tagged cells become a
# training job and a serving bundle; the job runs, the server starts on
# loopback and answers a prediction. Run from the repository's root after
# the notebooks were executed (make demo does both).
#
#   notebooks/demo.sh GOPHERLAB_BINARY TRACKING_DB EXECUTED_NOTEBOOK_DIR
set -euo pipefail

bin=$1 db=$2 executed=$3
go=${GO:-go}
nb=notebooks/02-breast-cancer.ipynb
out=build/export
csv=/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv

say() { printf 'demo: %s\n' "$*"; }

rm -rf "$out"
# The tracked run of the notebook's pipeline: the job must reproduce it.
run=$("$bin" runs list -db "$db" -experiment 02-breast-cancer -format csv -limit 1 \
	-filter 'tags.estimator = "pipeline" and tags.autolog = "fit" and parent_run_id IS NULL' | awk -F, 'NR == 2 { print $1 }')
if [ -z "$run" ]; then
	say "no tracked run of the notebook's pipeline in $db" >&2
	exit 1
fi
say "exporting the cells of $nb tagged parameters/load/prepare/train/evaluate (tracked run ${run:0:8})"
"$bin" export "$nb" --run "$run" --db "$db" -o "$out"

say "building the training job ($out/job): compiled Go, no interpreter"
(cd "$out/job" && "$go" build -o job .)
say "running the job (its fits are tracked in $db like the notebook's)"
(cd "$out/job" && GOPHERLAB_DB="$db" ./job) | tee build/job.out

# The job prints what the notebook printed: the same test accuracy, to
# the last digit shown.
want=$(grep -ho 'test accuracy [0-9.]*' "$executed/$(basename "$nb")" | head -1 || true)
got=$(grep -o 'test accuracy [0-9.]*' build/job.out | head -1 || true)
if [ -z "$want" ] || [ "$want" != "$got" ]; then
	say "the job printed '$got', the notebook '$want'" >&2
	exit 1
fi
say "the job reproduces the notebook: $got"

say "building the model server ($out/serve)"
(cd "$out/serve" && "$go" build -o server .)
log=$(mktemp)
(cd "$out/serve" && exec ./server -addr 127.0.0.1:0) >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
addr=
for _ in $(seq 100); do
	addr=$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)
	[ -n "$addr" ] && break
	sleep 0.1
done
if [ -z "$addr" ]; then
	say "the server did not start:" >&2
	cat "$log" >&2
	exit 1
fi
for _ in $(seq 50); do
	curl -fsS "$addr/v2/health/ready" >/dev/null 2>&1 && break
	sleep 0.1
done

# One tumour from the data set (its 30 measurements m01..m30), as a client
# would send it.
body=$(awk -F, 'NR == 2 {
	printf "{"
	for (i = 1; i <= 30; i++) printf "%s\"m%02d\": %s", (i > 1 ? ", " : ""), i, $i
	printf "}"
}' "$csv")
say "POST $addr/predict with the first tumour of the data set"
curl -fsS -H 'Content-Type: application/json' -d "$body" "$addr/predict"
echo
say "GET $addr/v2/models/02-breast-cancer/ready"
curl -sS -o /dev/null -w 'demo: HTTP %{http_code}\n' "$addr/v2/models/02-breast-cancer/ready" || true
kill -TERM "$server"
wait "$server" 2>/dev/null || true

say "training job:   $(pwd)/$out/job (go build -o job . && ./job -h)"
say "serving bundle: $(pwd)/$out/serve (README.md, Dockerfile, k8s/)"
