/**
 * The GitHub workflows, checked against the project: actionlint (in .ci/run)
 * checks their syntax and expressions; these tests check that they build and
 * smoke-test what deno.json and the Dockerfile describe, with least privilege.
 * (Plain text checks: no YAML parser is a dependency of this project.)
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));
const release = read(".github/workflows/release.yml");
const ci = read(".github/workflows/ci.yml");
const { tasks } = JSON.parse(read("deno.json")) as { tasks: Record<string, string> };

/** The jobs of a workflow by id, each as its text (two-space indented ids under `jobs:`). */
function jobsOf(workflow: string): Record<string, string> {
  const body = workflow.slice(workflow.indexOf("\njobs:\n"));
  const jobs: Record<string, string> = {};
  let current = "";
  for (const line of body.split("\n").slice(2)) {
    const id = line.match(/^ {2}([a-z][a-z0-9-]*):$/)?.[1];
    if (id) current = id;
    if (current) jobs[current] = (jobs[current] ?? "") + line + "\n";
  }
  return jobs;
}

/** The permissions a job grants, as `scope: level` strings. */
function permissionsOf(job: string): string[] {
  const block = job.match(/\n {4}permissions:\n((?: {6}.*\n)+)/)?.[1] ?? "";
  return block.split("\n").filter(Boolean).map((line) => line.trim().replace(/\s*#.*$/, ""));
}

/** The shell scripts of every `run:` step, one-line and block form. */
function runScripts(workflow: string): string[] {
  const lines = workflow.split("\n");
  const scripts: string[] = [];
  lines.forEach((line, i) => {
    const match = line.match(/^(\s*)(?:- )?run: (.*)$/);
    if (!match) return;
    if (match[2] !== "|") return void scripts.push(match[2]!);
    const indent = match[1]!.length + (line.includes("- run:") ? 2 : 0);
    const block: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== "" && next.search(/\S/) <= indent) break;
      block.push(next);
    }
    scripts.push(block.join("\n"));
  });
  return scripts;
}

const jobs = jobsOf(release);

Deno.test("release.yml compiles every target the compile:* tasks of deno.json name", () => {
  const compileTasks = Object.keys(tasks).filter((name) => name.startsWith("compile:")).sort();
  assert.equal(compileTasks.length, 5, compileTasks.join(", "));
  const matrix = [...jobs.compile!.matchAll(/- task: "(compile:[^"]+)"\n\s+name: (\S+)/g)]
    .map(([, task, name]) => ({ task: task!, name: name! }));
  assert.deepEqual(matrix.map(({ task }) => task).sort(), compileTasks);
  for (const { task, name } of matrix) {
    // The artifact the job uploads is the file the task writes.
    assert.equal(tasks[task]!.match(/--output (\S+)/)?.[1], `dist/genesys-weather-action-${name}`);
  }
  assert.match(jobs.compile!, /deno task "\$TASK"/);
  assert.match(jobs.compile!, /TASK: \$\{\{ matrix\.task \}\}/);
  assert.match(jobs.compile!, /path: dist\/genesys-weather-action-\$\{\{ matrix\.name \}\}\*/);
});

Deno.test("release.yml smoke-tests the Linux binary and the image before anything is published", async (t) => {
  await t.step("the Linux x64 binary runs scripts/smoke_binary.ts on an x64 Linux runner", () => {
    const smoke = jobs.smoke!;
    assert.match(smoke, /needs: compile\n/);
    assert.match(smoke, /- name: linux-x64\n\s+runner: ubuntu-[\d.]+\n/);
    assert.match(smoke, /- name: linux-arm64\n\s+runner: ubuntu-[\d.]+-arm\n/);
    assert.match(smoke, /deno run --allow-all scripts\/smoke_binary\.ts "\$BINARY"/);
    assert.match(smoke, /BINARY: dist\/genesys-weather-action-\$\{\{ matrix\.name \}\}/);
  });

  await t.step(
    "archives are made only from smoke-tested builds, and released only from a tag",
    () => {
      assert.match(jobs.package!, /needs: smoke\n/);
      assert.match(jobs.package!, /sha256sum genesys-weather-action-\* > SHA256SUMS/);
      assert.match(jobs.release!, /needs: \[package, image\]\n/);
      assert.match(jobs.release!, /if: startsWith\(github\.ref, 'refs\/tags\/v'\)\n/);
      assert.match(jobs.release!, /uses: actions\/attest-build-provenance@/);
      assert.match(jobs.release!, /subject-checksums: release\/SHA256SUMS/);
      assert.match(jobs.release!, /gh release create "\$TAG" --verify-tag/);
    },
  );

  await t.step(
    "the image is built for amd64, smoke-tested, then pushed with provenance and SBOM",
    () => {
      const image = jobs.image!;
      const smokeAt = image.indexOf("scripts/smoke_binary.ts --image genesys-weather-action:smoke");
      const pushAt = image.indexOf("platforms: linux/amd64,linux/arm64");
      assert.ok(image.indexOf("load: true") < smokeAt, "load the amd64 image, then test it");
      assert.ok(smokeAt > 0 && smokeAt < pushAt, "smoke test before the multi-arch push");
      assert.doesNotMatch(image, /setup-qemu-action/, "cross-compiled: no emulation");
      assert.match(image, /push: \$\{\{ startsWith\(github\.ref, 'refs\/tags\/v'\) \}\}/);
      assert.match(image, /provenance: mode=max\n/);
      assert.match(image, /sbom: true\n/);
      assert.match(image, /push-to-registry: true\n/);
    },
  );
});

Deno.test("the workflows grant each job only what it needs", () => {
  assert.match(release, /\npermissions: \{\}\n/, "release.yml grants nothing by default");
  assert.match(ci, /\npermissions:\n {2}contents: read\n/);
  const expected: Record<string, string[]> = {
    gate: ["contents: read"],
    compile: ["contents: read"],
    smoke: ["contents: read"],
    package: ["contents: read"],
    release: ["contents: write", "id-token: write", "attestations: write"],
    image: ["contents: read", "packages: write", "id-token: write", "attestations: write"],
  };
  assert.deepEqual(Object.keys(jobs).sort(), Object.keys(expected).sort());
  for (const [job, permissions] of Object.entries(expected)) {
    assert.deepEqual(permissionsOf(jobs[job]!), permissions, job);
  }
});

Deno.test("the workflows pin every action by commit and keep expressions out of shell scripts", () => {
  for (const [file, workflow] of [["ci.yml", ci], ["release.yml", release]] as const) {
    const uses = [...workflow.matchAll(/uses: (\S+)(.*)/g)];
    assert.ok(uses.length > 0, file);
    for (const [, action, comment] of uses) {
      assert.match(action!, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file}: ${action} by commit SHA`);
      assert.match(comment!, /^ # v\d+\.\d+\.\d+$/, `${file}: ${action} names its version`);
    }
    // Values reach scripts through env:, so nothing from an event is pasted into a shell.
    for (const script of runScripts(workflow)) {
      assert.doesNotMatch(script, /\$\{\{/, `${file}: an expression inside run: ${script}`);
    }
  }
  assert.ok(runScripts(release).length >= 6, "the run: scripts were found");
});

Deno.test("ci.yml runs .ci/run on every push and pull request; both use the Deno of .ci/run", () => {
  assert.match(ci, /\non:\n {2}push:\n {2}pull_request:\n/);
  assert.deepEqual(runScripts(ci), ["bash .ci/run"]);
  assert.match(jobs.gate!, /- run: bash \.ci\/run\n/);
  const ciDeno = read(".ci/run").match(/DENO_VERSION="([\d.]+)"/)?.[1];
  assert.match(release, new RegExp(`\\n {2}DENO_VERSION: "${ciDeno!.replaceAll(".", "\\.")}"\\n`));
});
