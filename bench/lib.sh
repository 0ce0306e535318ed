# Shared by the benchmark scripts (bench/soak, bench/many-jobs, bench/trigger-to-start): sourced, not run.
# Expects $root (the repository) and $work (a temporary directory the caller removes).

admin_password=bench-admin-pw

build_server() {
  (cd "$root" && dotnet build src/Valet.Server -c Release -v q -nologo >/dev/null)
  command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
}

# start_valet NAME PORT HOME CONFIG [more serve options…]: starts `valet serve` in the background;
# sets valet_pid and valet (the base URL), and records the pid in $work/pids for stop_all.
start_valet() {
  local name=$1 port=$2 home=$3 config=$4; shift 4
  VALET_ADMIN_PASSWORD=$admin_password Logging__LogLevel__Default=Warning \
    dotnet "$root/artifacts/bin/Valet.Server/release/Valet.Server.dll" serve \
    --urls "http://127.0.0.1:$port" --home "$home" --config "$config" "$@" >"$work/$name.out" 2>&1 &
  valet_pid=$!
  echo "$valet_pid" >>"$work/pids"
  valet="http://127.0.0.1:$port"
}

stop_all() {
  [[ -f "$work/pids" ]] || return 0
  while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/pids"
  while read -r pid; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done <"$work/pids"
  rm -f "$work/pids"
}

# stop_valet PID: SIGTERM and wait, so the next server on the same home finds it free.
stop_valet() {
  kill "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null; do sleep 0.1; done
}

# wait_for URL [seconds]: until URL answers 2xx.
wait_for() {
  local deadline=$((SECONDS + ${2:-60}))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      echo "no answer from $1; server output:" >&2
      tail -n 40 "$work"/*.out >&2
      exit 1
    fi
    sleep 0.05
  done
}

# api_token: a new API token of admin (crumb from a cookie session, then generateNewToken), so that
# POSTs need no crumb afterwards.
api_token() {
  local jar="$work/cookies" crumb
  crumb=$(curl -fsS -c "$jar" -b "$jar" -u "admin:$admin_password" "$valet/crumbIssuer/api/json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["crumb"])')
  curl -fsS -c "$jar" -b "$jar" -u "admin:$admin_password" -H "Jenkins-Crumb: $crumb" -X POST \
    --data-urlencode "newTokenName=bench" \
    "$valet/me/descriptorByName/jenkins.security.ApiTokenProperty/generateNewToken" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["tokenValue"])'
}

# Resident memory (KiB), threads and open file descriptors of a process.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
fds_of() { ls "/proc/$1/fd" | wc -l; }

# field LINE NAME: the value of NAME=… in a RESULT line of report.lua.
field() { sed -E "s/.* $2=([^ ]+).*/\1/" <<<"$1"; }
