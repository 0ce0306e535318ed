#!/usr/bin/python3
"""Drives Valet with Debian's python3-jenkins as a user would: one `OK <step> <detail>` line per passed call.

Usage: python_jenkins.py <base url> <user> <password or API token> <job prefix>
Any failure raises, so the exit status is non-zero and the traceback names the call.
"""
import sys
import time

import jenkins

url, user, secret, prefix = sys.argv[1:5]

FREESTYLE = """<?xml version='1.1' encoding='UTF-8'?>
<project>
  <actions/>
  <description>{description}</description>
  <keepDependencies>false</keepDependencies>
  <properties>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
        <hudson.model.StringParameterDefinition>
          <name>P</name>
          <description></description>
          <defaultValue>d</defaultValue>
          <trim>false</trim>
        </hudson.model.StringParameterDefinition>
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <scm class="hudson.scm.NullSCM"/>
  <quietPeriod>0</quietPeriod>
  <canRoam>true</canRoam>
  <disabled>false</disabled>
  <blockBuildWhenDownstreamBuilding>false</blockBuildWhenDownstreamBuilding>
  <blockBuildWhenUpstreamBuilding>false</blockBuildWhenUpstreamBuilding>
  <triggers/>
  <concurrentBuild>false</concurrentBuild>
  <builders>
    <hudson.tasks.Shell>
      <command>echo "hello $P"</command>
      <configuredLocalRules/>
    </hudson.tasks.Shell>
  </builders>
  <publishers/>
  <buildWrappers/>
</project>
"""

FOLDER = """<?xml version='1.1' encoding='UTF-8'?>
<com.cloudbees.hudson.plugins.folder.Folder plugin="cloudbees-folder@6.901">
  <actions/>
  <description>a folder</description>
  <properties/>
</com.cloudbees.hudson.plugins.folder.Folder>
"""


def ok(step, detail=""):
    print(f"OK {step} {detail}".rstrip(), flush=True)


def until(what, check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


server = jenkins.Jenkins(url, username=user, password=secret, timeout=30)

me = server.get_whoami()
assert me["id"] == user, me
ok("whoami", me["id"])
# After an authenticated call, as the spec's note on get_version says.
ok("version", server.get_version())

job = prefix + "job"
folder = prefix + "dir"
server.create_job(job, FREESTYLE.format(description="first"))
ok("create_job", job)
server.create_job(folder, FOLDER)
server.create_job(folder + "/inner", FREESTYLE.format(description="inner"))
assert server.is_folder(folder)
assert server.job_exists(folder + "/inner")
ok("create_folder_job", folder + "/inner")

names = [j["name"] for j in server.get_info()["jobs"]]
assert job in names and folder in names, names
ok("info", len(names))

info = server.get_job_info(job)
assert info["nextBuildNumber"] == 1 and info["color"] == "notbuilt" and info["lastBuild"] is None, info
ok("job_info", info["color"])

queue_id = server.build_job(job, {"P": "from-python"})
assert isinstance(queue_id, int) and queue_id > 0, queue_id
ok("build_job", queue_id)


def started():
    item = server.get_queue_item(queue_id)
    executable = item.get("executable")
    return executable and executable["number"]


number = until("the build to start", started)
ok("queue_item", number)

build = until("the build to finish", lambda: (b := server.get_build_info(job, number)) and not b["building"] and b)
assert build["result"] == "SUCCESS" and build["queueId"] == queue_id, build
parameters = [a for a in build["actions"] if a.get("_class") == "hudson.model.ParametersAction"]
assert parameters and parameters[0]["parameters"][0]["value"] == "from-python", build["actions"]
ok("build_info", build["result"])

console = server.get_build_console_output(job, number)
assert "hello from-python" in console, console
ok("console", len(console))

server.reconfig_job(job, FREESTYLE.format(description="second"))
config = server.get_job_config(job)
assert "<description>second</description>" in config and "echo" in config, config
ok("reconfig")

server.disable_job(job)
assert server.get_job_info(job)["color"] == "disabled"
server.enable_job(job)
assert server.get_job_info(job)["buildable"]
ok("disable_enable")

server.copy_job(job, job + "-copy")
assert server.job_exists(job + "-copy")
ok("copy_job")

# A long quiet period keeps the item waiting until it is cancelled.
slow = prefix + "slow"
server.create_job(slow, FREESTYLE.format(description="slow").replace("<quietPeriod>0</quietPeriod>", "<quietPeriod>300</quietPeriod>")
                  .replace('echo "hello $P"', "sleep 120"))
waiting = server.build_job(slow, {"P": "wait"})
server.cancel_queue(waiting)
assert server.get_queue_item(waiting)["cancelled"] is True
ok("cancel_queue", waiting)

running = server.build_job(slow, {"P": "run", "delay": "0sec"})
number = until("the slow build to start", lambda: (server.get_queue_item(running).get("executable") or {}).get("number"))
server.stop_build(slow, number)
stopped = until("the build to stop", lambda: (b := server.get_build_info(slow, number)) and not b["building"] and b)
assert stopped["result"] == "ABORTED", stopped
ok("stop_build", stopped["result"])

for name in (job + "-copy", job, slow, folder):
    server.delete_job(name)
    assert not server.job_exists(name), name
ok("delete_job")
