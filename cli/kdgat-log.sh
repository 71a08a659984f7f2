#!/bin/sh
# kdgat-log.sh: log a pipeline stage to kdgat-tracker from a SLURM job with nothing but curl.
#
#   kdgat-log.sh start  <run-id> <config.json>           start a new attempt (RUNNING)
#   kdgat-log.sh metric <run-id> <key> <value> [step]    one metric point (step defaults to 0)
#   kdgat-log.sh csv    <run-id> <metrics.csv>           a Lightning metrics.csv as metric history
#   kdgat-log.sh end    <run-id> FINISHED|FAILED|KILLED [message]
#   kdgat-log.sh artifact <run-id> <file> [path]         upload a file (up to 100 MB) as an artifact
#   kdgat-log.sh flush                                   send what an outage left in the spool
#
# Environment: KDGAT_API (default http://127.0.0.1:8787), KDGAT_TOKEN (a write token, required),
# KDGAT_SPOOL (default $HOME/.kdgat-spool), KDGAT_RETRIES (default 4), KDGAT_RETRY_DELAY (first
# backoff in seconds, default 1, doubling), KDGAT_TIMEOUT (seconds per request, default 30),
# KDGAT_JOB (what tells this job from others, default $SLURM_JOB_ID.$SLURM_RESTART_COUNT).
#
# Each job writes to its own attempt: `start` records the run_id the tracker answered (in
# $KDGAT_SPOOL/jobs/, per run id and job) and `metric`, `csv` and `end` send it (?run_id=), so a job
# requeued while its old copy still runs never gets the old copy's metrics or FAILED end. A start
# that was spooled records it when the spool sends it, before the requests spooled after it.
#
# Nothing is lost in a network outage: a request the tracker does not take after the retries is
# spooled (in order) and sent before the next request, or by `flush`. Every request is idempotent
# when re-sent: `start` carries an Idempotency-Key, metric points and CSV rows carry timestamps
# fixed when the command ran, `end` carries its end time. A job never fails because the tracker is
# down (exit 0, with a warning); it exits 1 when the tracker rejects a request, 2 on usage errors.
set -u

API=${KDGAT_API:-http://127.0.0.1:8787}
API=${API%/}
SPOOL=${KDGAT_SPOOL:-${HOME:-/tmp}/.kdgat-spool}
RETRIES=${KDGAT_RETRIES:-4}
RETRY_DELAY=${KDGAT_RETRY_DELAY:-1}
TIMEOUT=${KDGAT_TIMEOUT:-30}
WORK=${TMPDIR:-/tmp}/kdgat-log.$$
LOCKED=
# Outside SLURM, the calls of one job script share their host and parent shell.
JOB=${KDGAT_JOB:-${SLURM_JOB_ID:+$SLURM_JOB_ID.${SLURM_RESTART_COUNT:-0}}}
JOB=$(printf '%s' "${JOB:-$(uname -n).$PPID}" | tr -c 'A-Za-z0-9._-' _)

usage() {
  sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "kdgat-log: $*" >&2
  exit 2
}
cleanup() {
  rm -rf "$WORK"
  [ -n "$LOCKED" ] && rmdir "$SPOOL/.lock" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Milliseconds since the epoch (GNU date), else seconds * 1000.
now_ms() {
  ms=$(date +%s%3N 2>/dev/null)
  case $ms in '' | *[!0-9]*) echo "$(date +%s)000" ;; *) echo "$ms" ;; esac
}

check_run_id() {
  case $1 in
    */*/* | /* | */ | *[!A-Za-z0-9._/-]* | .* | */.*) die "invalid run id '$1' (expected {dataset}/{name})" ;;
    */*) ;;
    *) die "invalid run id '$1' (expected {dataset}/{name})" ;;
  esac
}

# One request; prints the HTTP status (000 when the tracker could not be reached).
# An artifact upload is streamed from the file (-T), other bodies are sent from memory.
send_once() { # method path content-type idempotency-key body-file
  if [ "$3" = application/octet-stream ]; then
    curl -sS -o "$WORK/response" -w '%{http_code}' --max-time "$TIMEOUT" -X "$1" -H "Authorization: Bearer $KDGAT_TOKEN" \
      -H "Content-Type: $3" -T "$5" "$API$2" 2>/dev/null || true
  elif [ -n "$4" ]; then
    curl -sS -o "$WORK/response" -w '%{http_code}' --max-time "$TIMEOUT" -X "$1" -H "Authorization: Bearer $KDGAT_TOKEN" \
      -H "Content-Type: $3" -H "Idempotency-Key: $4" --data-binary "@$5" "$API$2" 2>/dev/null || true
  else
    curl -sS -o "$WORK/response" -w '%{http_code}' --max-time "$TIMEOUT" -X "$1" -H "Authorization: Bearer $KDGAT_TOKEN" \
      -H "Content-Type: $3" --data-binary "@$5" "$API$2" 2>/dev/null || true
  fi
}

# Returns 0 when delivered, 1 when the tracker stayed unreachable (or 5xx), 2 when it rejected it.
deliver() {
  attempt=0
  delay=$RETRY_DELAY
  while :; do
    code=$(send_once "$@")
    case $code in
      2??) return 0 ;;
      000 | 5?? | 408 | 429) ;;
      *)
        echo "kdgat-log: $1 $2 rejected (HTTP $code): $(cat "$WORK/response" 2>/dev/null)" >&2
        return 2
        ;;
    esac
    attempt=$((attempt + 1))
    [ "$attempt" -gt "$RETRIES" ] && return 1
    sleep "$delay"
    delay=$((delay * 2))
  done
}

# The spool is shared by the jobs of a user: one at a time (mkdir is atomic, also on NFS).
lock() {
  mkdir -p "$SPOOL/jobs" || die "cannot create the spool $SPOOL"
  tries=0
  until mkdir "$SPOOL/.lock" 2>/dev/null; do
    tries=$((tries + 1))
    # A lock older than a minute was left by a killed job.
    if [ "$tries" -gt 60 ]; then
      rmdir "$SPOOL/.lock" 2>/dev/null
      tries=0
    fi
    sleep 1
  done
  LOCKED=1
}
unlock() {
  rmdir "$SPOOL/.lock" 2>/dev/null
  LOCKED=
}

# The name, under $SPOOL/jobs/, of the file holding the run_id of this job's attempt of run id $1.
attempt_key() {
  printf '%s@%s' "$(printf '%s' "$1" | tr / +)" "$JOB"
}

# Sends one request (returns as deliver) for the attempt that key $6 records: a start records the
# run_id it was answered, later requests carry it; they are not sent when the start was rejected.
send() { # method path content-type idempotency-key body-file attempt-key
  path=$2
  recorded=$SPOOL/jobs/$6
  if [ -n "$6" ] && [ "$1" != PUT ] && [ -f "$recorded" ]; then
    run_uuid=$(cat "$recorded")
    case $run_uuid in
      rejected)
        echo "kdgat-log: $1 $2 not sent: the tracker rejected this job's start of the run" >&2
        return 2
        ;;
    esac
    case $path in *\?*) path="$path&run_id=$run_uuid" ;; *) path="$path?run_id=$run_uuid" ;; esac
  fi
  deliver "$1" "$path" "$3" "$4" "$5"
  rc=$?
  [ -n "$6" ] || return "$rc"
  case $1:$rc in
    PUT:0) sed -n 's/.*"run_id": *"\([0-9a-f]\{32\}\)".*/\1/p' "$WORK/response" > "$recorded.tmp" && mv "$recorded.tmp" "$recorded" ;;
    PUT:2) echo rejected > "$recorded" ;;
    # The job is done with this attempt.
    POST:0) case $2 in */end) rm -f "$recorded" ;; esac ;;
  esac
  return "$rc"
}

# Appends a request to the spool; the .req file appears last (by rename), so it is never half there.
spool_add() { # method path content-type idempotency-key body-file attempt-key
  seq=$(($(cat "$SPOOL/seq" 2>/dev/null || echo 0) + 1))
  echo "$seq" > "$SPOOL/seq"
  name=$(printf '%012d' "$seq")
  cp "$5" "$SPOOL/$name.body" || die "cannot write the spool $SPOOL"
  printf '%s\n%s\n%s\n%s\n%s\n' "$1" "$2" "$3" "$4" "$6" > "$SPOOL/$name.tmp" && mv "$SPOOL/$name.tmp" "$SPOOL/$name.req"
}

# Sends the spool in order; returns 1 (and keeps the rest) when the tracker is unreachable.
flush_spool() {
  for req in "$SPOOL"/*.req; do
    [ -f "$req" ] || return 0
    body=${req%.req}.body
    send "$(sed -n 1p "$req")" "$(sed -n 2p "$req")" "$(sed -n 3p "$req")" "$(sed -n 4p "$req")" "$body" "$(sed -n 5p "$req")"
    case $? in
      0) rm -f "$req" "$body" ;;
      1) return 1 ;;
      2)
        # The tracker will never take it: keep it aside for a human, and go on.
        mkdir -p "$SPOOL/rejected" && mv "$req" "$body" "$SPOOL/rejected/"
        ;;
    esac
  done
}

spooled_count() {
  n=0
  for req in "$SPOOL"/*.req; do [ -f "$req" ] && n=$((n + 1)); done
  echo "$n"
}

# Sends a request after whatever is spooled; spools it when the tracker cannot be reached.
submit() { # method path content-type idempotency-key body-file attempt-key
  lock
  if ! flush_spool; then
    spool_add "$@"
    echo "kdgat-log: tracker unreachable at $API; spooled in $SPOOL ($(spooled_count) waiting)" >&2
    unlock
    return 0
  fi
  send "$@"
  rc=$?
  status=0
  case $rc in
    1)
      spool_add "$@"
      echo "kdgat-log: tracker unreachable at $API; spooled in $SPOOL ($(spooled_count) waiting)" >&2
      ;;
    2) status=1 ;;
  esac
  unlock
  return "$status"
}

# GET of the tracker into $WORK/response, with the retries of deliver; prints the HTTP status.
get_json() { # path
  attempt=0
  delay=$RETRY_DELAY
  while :; do
    code=$(curl -sS -o "$WORK/response" -w '%{http_code}' --max-time "$TIMEOUT" -H "Authorization: Bearer $KDGAT_TOKEN" "$API$1" 2>/dev/null || true)
    case $code in 000 | 5?? | 408 | 429) ;; *) echo "$code"; return ;; esac
    attempt=$((attempt + 1))
    [ "$attempt" -gt "$RETRIES" ] && { echo "$code"; return; }
    sleep "$delay"
    delay=$((delay * 2))
  done
}

# Uploads file $2 as artifact $3 of run id $1: to this job's attempt (the one its start recorded),
# else to the run id's latest attempt. Streamed (curl -T) and retried, never spooled (a checkpoint is
# not copied): when the tracker stays unreachable the job goes on with a warning, and
# `kdgat backfill --artifacts` uploads what is missing later.
upload_artifact() { # run-id file path
  lock
  flushed=0
  flush_spool || flushed=1
  unlock
  recorded=$SPOOL/jobs/$(attempt_key "$1")
  run_uuid=$(cat "$recorded" 2>/dev/null)
  [ "$run_uuid" = rejected ] && { echo "kdgat-log: artifact not sent: the tracker rejected this job's start of the run" >&2; return 1; }
  unreachable="kdgat-log: tracker unreachable at $API; artifact $3 of $1 not uploaded (kdgat backfill --artifacts sends it later)"
  [ "$flushed" -eq 0 ] || { echo "$unreachable" >&2; return 0; }
  if [ -z "$run_uuid" ]; then
    code=$(get_json "/api/v1/runs/$1")
    case $code in 2??) ;; 000 | 5??) echo "$unreachable" >&2; return 0 ;; *) echo "kdgat-log: artifact not sent: run $1 (HTTP $code): $(cat "$WORK/response")" >&2; return 1 ;; esac
    run_uuid=$(sed -n 's/.*"mlflow_run_id": *"\([0-9a-f]\{32\}\)".*/\1/p' "$WORK/response" | head -n 1)
  fi
  code=$(get_json "/api/2.0/mlflow/runs/get?run_id=$run_uuid")
  case $code in 2??) ;; 000 | 5??) echo "$unreachable" >&2; return 0 ;; *) echo "kdgat-log: artifact not sent: run $1 (HTTP $code): $(cat "$WORK/response")" >&2; return 1 ;; esac
  root=$(sed -n 's|.*"artifact_uri": *"mlflow-artifacts:/*\([0-9]*/[0-9a-f]\{32\}/artifacts\)".*|\1|p' "$WORK/response")
  [ -n "$root" ] || { echo "kdgat-log: artifact not sent: run $1 has no mlflow-artifacts: artifact_uri" >&2; return 1; }
  deliver PUT "/api/2.0/mlflow-artifacts/artifacts/$root/$3" application/octet-stream "" "$2"
  case $? in
    0) return 0 ;;
    1) echo "$unreachable" >&2; return 0 ;;
    *) return 1 ;;
  esac
}

# A JSON string literal of $1 (control characters dropped, newlines kept as \n).
json_string() {
  printf '%s' "$1" | tr -d '\000-\010\013\014\016-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\r$//' -e "s/$(printf '\t')/\\\\t/g" |
    awk 'BEGIN { printf "\"" } NR > 1 { printf "\\n" } { printf "%s", $0 } END { printf "\"" }'
}

# A metric value as JSON (Python's nan/inf spellings included; the tracker reads NaN/Infinity).
json_number() {
  case $1 in
    nan | NaN | NAN) echo '"NaN"' ;;
    inf | Inf | Infinity) echo 'Infinity' ;;
    -inf | -Inf | -Infinity) echo '-Infinity' ;;
    *)
      printf '%s' "$1" | grep -Eq '^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$' || die "'$1' is not a number"
      echo "$1"
      ;;
  esac
}

[ $# -ge 1 ] || usage
command -v curl > /dev/null 2>&1 || die "curl is required"
[ -n "${KDGAT_TOKEN:-}" ] || die "set KDGAT_TOKEN to a write token (kdgat token create NAME)"
mkdir -p "$WORK" || die "cannot create $WORK"

action=$1
shift
case $action in
  start)
    [ $# -eq 2 ] || usage
    check_run_id "$1"
    [ -r "$2" ] || die "cannot read $2"
    start=$(now_ms)
    # The records of jobs that never ended (killed at their time limit) go after a month.
    find "$SPOOL/jobs" -type f -mtime +30 -exec rm -f {} + 2>/dev/null
    submit PUT "/api/v1/runs/$1?start_time=$start" application/json "kdgat-log:$1:$start:$$" "$2" "$(attempt_key "$1")"
    ;;
  metric)
    [ $# -eq 3 ] || [ $# -eq 4 ] || usage
    check_run_id "$1"
    case $2 in '' | *[!A-Za-z0-9_./:\ -]*) die "invalid metric key '$2'" ;; esac
    step=${4:-0}
    case $step in '' | *[!0-9]*) die "step must be a non-negative integer" ;; esac
    value=$(json_number "$3") || exit 2
    printf '{"step": %s, "timestamp": %s, "metrics": {%s: %s}}' "$step" "$(now_ms)" "$(json_string "$2")" "$value" > "$WORK/body"
    submit POST "/api/v1/runs/$1/metrics" application/json "" "$WORK/body" "$(attempt_key "$1")"
    ;;
  csv)
    [ $# -eq 2 ] || usage
    check_run_id "$1"
    [ -r "$2" ] || die "cannot read $2"
    submit POST "/api/v1/runs/$1/metrics?timestamp=$(now_ms)" text/csv "" "$2" "$(attempt_key "$1")"
    ;;
  end)
    [ $# -eq 2 ] || [ $# -eq 3 ] || usage
    check_run_id "$1"
    case $2 in FINISHED | FAILED | KILLED) ;; *) die "status must be FINISHED, FAILED or KILLED" ;; esac
    if [ $# -eq 3 ]; then error=", \"error\": $(json_string "$3")"; else error=""; fi
    printf '{"status": "%s", "end_time": %s%s}' "$2" "$(now_ms)" "$error" > "$WORK/body"
    submit POST "/api/v1/runs/$1/end" application/json "" "$WORK/body" "$(attempt_key "$1")"
    ;;
  artifact)
    [ $# -eq 2 ] || [ $# -eq 3 ] || usage
    check_run_id "$1"
    [ -f "$2" ] && [ -r "$2" ] || die "cannot read $2"
    path=${3:-$(basename "$2")}
    # Sent in the URL as it is: plain characters only, inside the run's artifact root.
    case $path in
      '' | /* | */ | *//* | *[!A-Za-z0-9._/=-]* | .. | ../* | */../* | */..) die "invalid artifact path '$path' (letters, digits, '.', '_', '-', '=', '/' inside the run's artifacts)" ;;
    esac
    upload_artifact "$1" "$2" "$path" || exit 1
    ;;
  flush)
    [ $# -eq 0 ] || usage
    lock
    if flush_spool; then
      echo "kdgat-log: spool sent" >&2
    else
      echo "kdgat-log: tracker unreachable at $API; $(spooled_count) request(s) still spooled in $SPOOL" >&2
      unlock
      exit 1
    fi
    unlock
    ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
