// Drives Valet with npm `jenkins` 1.1.0 (crumbs on, Basic from the URL): one `OK <step> <detail>` line per passed call.
// Usage: node node_jenkins.js <base url with user:password@> <job prefix>
// Any failure rejects, so the exit status is non-zero and the error names the call.
"use strict";
const assert = require("node:assert/strict");
const Jenkins = require("jenkins");

const [baseUrl, prefix] = process.argv.slice(2);
const jenkins = new Jenkins({ baseUrl, crumbIssuer: true });

const config = `<?xml version='1.1' encoding='UTF-8'?>
<project>
  <description>from node</description>
  <properties>
    <hudson.model.ParametersDefinitionProperty>
      <parameterDefinitions>
        <hudson.model.StringParameterDefinition>
          <name>P</name>
          <defaultValue>d</defaultValue>
        </hudson.model.StringParameterDefinition>
      </parameterDefinitions>
    </hudson.model.ParametersDefinitionProperty>
  </properties>
  <scm class="hudson.scm.NullSCM"/>
  <quietPeriod>0</quietPeriod>
  <builders>
    <hudson.tasks.Shell>
      <command>echo "hello $P"</command>
    </hudson.tasks.Shell>
  </builders>
</project>
`;

const ok = (step, detail = "") => console.log(`OK ${step} ${detail}`.trimEnd());

async function until(what, check, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  const info = await jenkins.info();
  assert.equal(info._class, "hudson.model.Hudson");
  ok("info", info.jobs.length);

  const name = `${prefix}job`;
  await jenkins.job.create(name, config);
  assert.equal(await jenkins.job.exists(name), true);
  ok("job.create", name);

  const job = await jenkins.job.get(name);
  assert.equal(job.nextBuildNumber, 1);
  assert.equal(job.color, "notbuilt");
  ok("job.get", job.color);

  const queueId = await jenkins.job.build({ name, parameters: { P: "from-node" } });
  assert.ok(Number.isInteger(queueId) && queueId > 0, `queue id ${queueId}`);
  ok("job.build", queueId);

  const number = await until("the build to start", async () => {
    const item = await jenkins.queue.item(queueId);
    return item.executable && item.executable.number;
  });
  ok("queue.item", number);

  const build = await until("the build to finish", async () => {
    const b = await jenkins.build.get(name, number);
    return !b.building && b;
  });
  assert.equal(build.result, "SUCCESS");
  ok("build.get", build.result);

  const log = await jenkins.build.log(name, number);
  assert.match(log, /hello from-node/);
  ok("build.log", log.length);

  await jenkins.job.disable(name);
  assert.equal((await jenkins.job.get(name)).color, "disabled");
  await jenkins.job.enable(name);
  ok("job.disable_enable");

  await jenkins.job.copy(name, `${name}-copy`);
  assert.equal(await jenkins.job.exists(`${name}-copy`), true);
  ok("job.copy");

  // The copy waits out a long quiet period, so it can be cancelled; with no delay the next one runs and is stopped.
  await jenkins.job.config(`${name}-copy`, config.replace("<quietPeriod>0</quietPeriod>", "<quietPeriod>300</quietPeriod>").replace('echo "hello $P"', "sleep 120"));
  const waiting = await jenkins.job.build({ name: `${name}-copy`, parameters: { P: "wait" } });
  await jenkins.queue.cancel(waiting);
  assert.equal((await jenkins.queue.item(waiting)).cancelled, true);
  ok("queue.cancel", waiting);
  const running = await jenkins.job.build({ name: `${name}-copy`, parameters: { P: "run", delay: "0sec" } });
  const slow = await until("the slow build to start", async () => {
    const item = await jenkins.queue.item(running);
    return item.executable && item.executable.number;
  });
  await jenkins.build.stop(`${name}-copy`, slow);
  const stopped = await until("the build to stop", async () => {
    const b = await jenkins.build.get(`${name}-copy`, slow);
    return !b.building && b;
  });
  assert.equal(stopped.result, "ABORTED");
  ok("build.stop", stopped.result);

  for (const n of [`${name}-copy`, name]) {
    await jenkins.job.destroy(n);
    assert.equal(await jenkins.job.exists(n), false);
  }
  ok("job.destroy");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
