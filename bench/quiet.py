"""Latency of one request at a time on a quiet server: N requests, each on a new connection (as a
script running curl would send them), a pause between them. Prints one line for bench/run:
QUIET p50_us=.. p90_us=.. statuses=<status>:<count>,...  Usage: quiet.py URL [N] [PAUSE_S]"""
import collections
import http.client
import statistics
import sys
import time
import urllib.parse

url = urllib.parse.urlsplit(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 50
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.2
path = url.path + ("?" + url.query if url.query else "")

times, statuses = [], collections.Counter()
for i in range(count):
    time.sleep(pause)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", path.replace("{i}", str(i)))
    response = conn.getresponse()
    response.read()
    times.append((time.perf_counter() - started) * 1e6)
    conn.close()
    statuses[response.status] += 1

times.sort()
print("QUIET p50_us=%d p90_us=%d statuses=%s" % (
    statistics.median(times), times[int(len(times) * 0.9)],
    ",".join("%d:%d" % kv for kv in sorted(statuses.items()))))
