#!/usr/bin/env bash
# The curl recipes of shared/seeds/003_*.txt as written, with the host, names and secrets filled in; only
# `-s -o /dev/null -w '%{http_code}'` is added to see each answer. Prints `OK <recipe> <status>` per 2xx.
# Usage: seed_curl.sh <host:port> <user> <api token> <job> <job with parameter param1> <job token of both>
set -euo pipefail
host="$1" username="$2" api_token="$3" job_name="$4" param_job="$5" build_token="$6"
jenkins="http://$host"
cookies="$(mktemp)"
trap 'rm -f "$cookies"' EXIT
status=0
check() {
  if [[ "$2" == 2* ]]; then echo "OK $1 $2"; else echo "FAILED $1 $2"; status=1; fi
}

# Build Token Root, first: later recipes fold into the item it queues (201 on core URLs, 303 here)
check build-by-token "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$jenkins/buildByToken/build?job=$job_name&token=$build_token")"

# Method 1: API token with crumb (CSRF protection)
CRUMB=$(curl -s --cookie-jar "$cookies" -u "$username:$api_token" \
  "$jenkins/crumbIssuer/api/xml?xpath=concat(//crumbRequestField,\":\",//crumb)")
[[ "$CRUMB" =~ ^Jenkins-Crumb:[0-9a-f]{64}$ ]] && echo "OK crumb-xpath" || { echo "FAILED crumb-xpath $CRUMB"; status=1; }
check crumb-build "$(curl -s -o /dev/null -w '%{http_code}' -X POST --cookie "$cookies" -H "$CRUMB" \
  -u "$username:$api_token" "$jenkins/job/$job_name/build")"

# Method 2: personal API token with the job's token
check token-build "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$jenkins/job/$job_name/build?token=$build_token" \
  --user "$username:$api_token")"

# The crumb with user:token in the URL, then Basic
CRUMB=$(curl -s "http://$username:$api_token@$host/crumbIssuer/api/xml?xpath=concat(//crumbRequestField,\":\",//crumb)")
check url-credentials-build "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$CRUMB" -u "$username:$api_token" "$jenkins/job/$job_name/build")"

# The full example script
JENKINS_URL="$jenkins" USERNAME="$username" API_TOKEN="$api_token" JOB_NAME="$job_name"
CRUMB=$(curl -s "$JENKINS_URL/crumbIssuer/api/xml?xpath=concat(//crumbRequestField,\":\",//crumb)" \
  --user "$USERNAME:$API_TOKEN")
check script-build "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$JENKINS_URL/job/$JOB_NAME/build" \
  -H "$CRUMB" \
  --user "$USERNAME:$API_TOKEN")"

# The JSON payload (credentials in the host part, as anonymous may not read)
check json-payload "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Content-Type: application/json" \
  -d '{"parameter": [{"name":"param1","value":"value1"}]}' \
  "http://$username:$api_token@$host/job/$param_job/build?token=$build_token")"

# buildWithParameters with delay and token as form fields
check build-with-parameters "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$jenkins/job/$param_job/buildWithParameters" \
  --user "$username:$api_token" \
  --data delay=0sec \
  --data token="$build_token")"

exit $status
