#!/usr/bin/env python3
"""Fills a running Valet with FOLDERS folders of JOBS jobs each, through the remote API (createItem).

Usage: bench/make-jobs.py URL USER API_TOKEN FOLDERS JOBS TRIGGER_TOKEN [PREFIX]
Folders are f0000… (PREFIX0000… when given), jobs f0000/j000…: freestyle, one string parameter `v`,
the trigger token given.
Eight connections create items at once; prints how long it took.
"""
import base64
import http.client
import sys
import threading
import time
import urllib.parse

url, user, api_token, folders, jobs, trigger_token = sys.argv[1:7]
prefix = sys.argv[7] if len(sys.argv) > 7 else "f"
folders, jobs = int(folders), int(jobs)
target = urllib.parse.urlsplit(url)
auth = "Basic " + base64.b64encode(f"{user}:{api_token}".encode()).decode()

FOLDER = "<?xml version='1.1' encoding='UTF-8'?><com.cloudbees.hudson.plugins.folder.Folder/>"
JOB = f"""<?xml version='1.1' encoding='UTF-8'?>
<project>
  <properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions>
    <hudson.model.StringParameterDefinition><name>v</name></hudson.model.StringParameterDefinition>
  </parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties>
  <authToken>{trigger_token}</authToken>
  <builders/>
</project>"""


def create(conn, path, body):
    conn.request("POST", path, body=body.encode(), headers={"Authorization": auth, "Content-Type": "text/xml"})
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"POST {path} answered {response.status}")


failures = []


def work(parts):
    try:
        conn = http.client.HTTPConnection(target.hostname, target.port)
        for path, body in parts:
            create(conn, path, body)
    except Exception as e:  # a thread's exception would otherwise only be printed
        failures.append(e)


def run(requests, workers=8):
    threads = [threading.Thread(target=work, args=(requests[i::workers],)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"creating items failed: {failures[0]}")


started = time.monotonic()
run([(f"/createItem?name={prefix}{f:04d}", FOLDER) for f in range(folders)])
run([(f"/job/{prefix}{f:04d}/createItem?name=j{j:03d}", JOB) for f in range(folders) for j in range(jobs)])
print(f"created {folders} folders and {folders * jobs} jobs in {time.monotonic() - started:.0f} s")
