import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { CONFIG_VARIABLES } from "../src/config.ts";
import { UNDICI_ENV_READS } from "../src/process/outbound_http.ts";
import { GENERATED_FILES, grantedEnvironment, withGeneratedTables } from "../tools/docs_tables.ts";
import { headingAnchors, markdownLinks, slug } from "./support/markdown.ts";
import { TestClock } from "./support/clock.ts";
import { startFakeOpenWeather } from "./support/fake_openweather.ts";
import { startService } from "./support/service.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const read = (file: string) => Deno.readTextFileSync(join(ROOT, file));
const readme = read("README.md");
const deployment = read("docs/deployment.md");

Deno.test("the docs tables match tools/contract_schema.ts and src/config.ts (run `deno task docs`)", async (t) => {
  assert.deepEqual([...GENERATED_FILES].sort(), [
    "docs/configuration.md",
    "docs/contract.md",
    "docs/deployment.md",
  ]);
  for (const file of GENERATED_FILES) {
    await t.step(file, () => {
      const text = read(file);
      assert.equal(
        text,
        withGeneratedTables(file, text),
        `${file} is stale: run \`deno task docs\``,
      );
    });
  }
  await t.step("a stale table is told apart", () => {
    const text = read("docs/configuration.md").replace("| `PORT` ", "| `PORTS` ");
    assert.notEqual(text, withGeneratedTables("docs/configuration.md", text));
    // The forecast action's answer is a block of its own in docs/contract.md.
    const contract = read("docs/contract.md");
    const stale = contract.replace("| `forecast_at` ", "| `forecast_on` ");
    assert.notEqual(stale, contract);
    assert.notEqual(stale, withGeneratedTables("docs/contract.md", stale));
  });
});
Deno.test("docs/contract.md's forecast example is what the service answers at the time it names", async () => {
  const contract = read("docs/contract.md");
  const section = contract.slice(contract.indexOf("### Forecast example"));
  assert.match(section, /^At 08:00 in New York \(12:00 UTC\) on 1 June 2026,/m);
  const request = section.match(/-d '(\{.*\})'/)?.[1];
  const example = section.match(/```json\n([\s\S]*?)\n```/)?.[1];
  assert.ok(request && example, "the forecast example has a request and a JSON answer");
  await using upstream = startFakeOpenWeather();
  await using service = await startService({
    OPENWEATHER_BASE_URL: upstream.url.href,
    OPENWEATHER_FORECAST_URL: upstream.forecastUrl.href,
  }, { clock: new TestClock(Date.parse("2026-06-01T12:00:00Z")) });
  const response = await service.post("/data-action/forecast", JSON.parse(request));
  assert.equal(response.status, 200);
  // The same text: the same fields, values and order as the service sends them.
  assert.equal(JSON.stringify(await response.json(), null, 2), example);
});

const deno = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))) as {
  tasks: Record<string, string>;
  permissions: Record<string, Record<string, unknown>>;
};
const { tasks } = deno;
/** Every task that runs the service: start, dev, serve, and each compile target. */
const serviceTasks = Object.keys(tasks).filter((name) =>
  /^(start|dev|serve|compile(:.*)?)$/.test(name)
);
const permissionsOf = (task: string) =>
  tasks[task]!.match(/(?:--(?:allow|deny|v8)-\S+|-P(?:=\S+)?|--permission-set\S*|\s-A\b)/g) ?? [];

Deno.test("every way of running the service has the same permissions and V8 flags", () => {
  assert.ok(serviceTasks.length >= 8, serviceTasks.join(", "));
  for (const task of serviceTasks) {
    assert.deepEqual(permissionsOf(task), permissionsOf("start"), task);
    assert.ok(!/\s-A\b|--allow-all|--allow-env/.test(tasks[task]!), task);
    // The lock file is the dependency set that was reviewed; nothing resolves anew at start.
    assert.match(tasks[task]!, /\s--frozen\b/, `${task} must run with --frozen`);
  }
  assert.deepEqual(permissionsOf("start"), [
    "--v8-flags=--max-semi-space-size=2",
    "-P",
    "--allow-net",
    "--allow-read=.env,secrets,/run/secrets,/run/credentials",
  ]);
});

Deno.test("deno.json's permission set grants exactly the variables the service and undici read", () => {
  assert.deepEqual(Object.keys(deno.permissions), ["default"]);
  const { env, ...others } = deno.permissions.default!;
  // Reads and the network stay on the command line: paths in deno.json resolve against
  // its own directory, while .env and ./secrets/ belong to the working directory, and
  // Deno 2.5 ignores `net` in a permission set.
  assert.deepEqual(others, {});
  // Written by `deno task docs` from the domains' declarations.
  assert.deepEqual(env, grantedEnvironment());
  assert.deepEqual(
    [...grantedEnvironment()].sort(),
    [...Object.keys(CONFIG_VARIABLES), ...UNDICI_ENV_READS].sort(),
  );
});

Deno.test("docs/deployment.md states the permission set once, naming every variable it grants", () => {
  const section = deployment.match(/<!-- permissions -->([\s\S]*?)<!-- \/permissions -->/)?.[1] ??
    "";
  assert.notEqual(section, "", "docs/deployment.md needs a <!-- permissions --> section");
  for (const name of deno.permissions.default!.env as string[]) {
    assert.ok(
      section.includes(`\`${name}\``),
      `docs/deployment.md's permissions must name ${name}`,
    );
  }
  assert.ok(section.includes("--allow-read=.env,secrets,/run/secrets,/run/credentials"));
});

Deno.test("README.md and docs/deployment.md state the supported Deno range that CI tests", () => {
  const oldest = String(tasks["test:oldest-deno"]).match(/test_oldest_deno\.sh (\d+\.\d+\.\d+)$/)
    ?.[1];
  const ci = Deno.readTextFileSync(new URL("../.ci/run", import.meta.url))
    .match(/DENO_VERSION="(\d+)\.(\d+)\.\d+"/);
  assert.ok(oldest && ci, "deno.json test:oldest-deno and .ci/run DENO_VERSION name versions");
  assert.ok(
    readme.includes(`**Supported Deno versions: ${oldest} through ${ci[1]}.${ci[2]}.**`),
    `README.md must say "Supported Deno versions: ${oldest} through ${ci[1]}.${ci[2]}."`,
  );
  assert.ok(
    deployment.includes(`**${oldest} through ${ci[1]}.${ci[2]}.**`),
    "docs/deployment.md's Supported Deno versions section names the range",
  );
  assert.ok(deployment.includes(`runtime page says ${oldest}`), "the Deploy section names it too");
});

/** The front page, the contributors' guide and every file under docs/. */
const MARKDOWN_FILES = [
  "README.md",
  "CONTRIBUTING.md",
  ...[...Deno.readDirSync(join(ROOT, "docs"))]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort(),
];

/** Why `target`, linked from `file`, does not resolve; undefined when it does. */
function brokenLink(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: ...
  const hash = target.indexOf("#");
  const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = path === "" ? join(ROOT, file) : join(ROOT, dirname(file), path);
  const shown = relative(ROOT, resolved);
  if (shown.startsWith("..")) return `${target} points outside the repository`;
  try {
    Deno.statSync(resolved);
  } catch {
    return `${target}: there is no ${shown}`;
  }
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith(".md")) return `${target}: anchors are checked only in Markdown files`;
  if (!headingAnchors(Deno.readTextFileSync(resolved)).has(anchor)) {
    return `${target}: ${shown} has no heading #${anchor}`;
  }
  return undefined;
}

Deno.test("every relative link and #anchor in README.md, CONTRIBUTING.md and docs/ resolves", async (t) => {
  await t.step("GitHub's heading anchors", () => {
    assert.equal(slug("Tracing (OpenTelemetry)"), "tracing-opentelemetry");
    assert.equal(slug("Success: `200`"), "success-200");
    assert.equal(slug("2. Test it before wiring Architect"), "2-test-it-before-wiring-architect");
    assert.equal(
      slug("Outbound network: what a compromised dependency could do"),
      "outbound-network-what-a-compromised-dependency-could-do",
    );
    assert.equal(slug("`src/process/`"), "srcprocess");
    assert.deepEqual(
      headingAnchors("# A\n\n```sh\n# not a heading\n```\n\n## A\n### Use `x_y` here\n"),
      new Set(["a", "a-1", "use-x_y-here"]),
    );
  });

  await t.step("a broken link is found", () => {
    assert.deepEqual(
      markdownLinks("See [a](docs/a.md#b) and `[c](d)`,\n[e\nf](#g) ![i](h.png)."),
      [
        { line: 1, target: "docs/a.md#b" },
        { line: 2, target: "#g" },
        { line: 3, target: "h.png" },
      ],
    );
    assert.ok(brokenLink("README.md", "docs/nothing-here.md"));
    assert.ok(brokenLink("README.md", "docs/operations.md#no-such-heading"));
    assert.ok(brokenLink("docs/genesys.md", "#no-such-heading"));
    assert.equal(brokenLink("docs/genesys.md", "../README.md#quick-start"), undefined);
  });

  for (const file of MARKDOWN_FILES) {
    await t.step(file, () => {
      const broken = markdownLinks(read(file)).flatMap(({ line, target }) => {
        const why = brokenLink(file, target);
        return why === undefined ? [] : [`${file}:${line}: ${why}`];
      });
      assert.deepEqual(broken, []);
    });
  }
});

Deno.test("README.md is a front page of at most 200 lines that links every file under docs/", () => {
  const lines = readme.endsWith("\n") ? readme.split("\n").length - 1 : readme.split("\n").length;
  assert.ok(lines <= 200, `README.md has ${lines} lines; move detail into docs/`);
  const linked = new Set(markdownLinks(readme).map(({ target }) => target.split("#")[0]));
  for (const file of MARKDOWN_FILES.filter((name) => name.startsWith("docs/"))) {
    assert.ok(linked.has(file), `README.md does not link ${file}`);
  }
  assert.ok(linked.has("CONTRIBUTING.md"), "README.md does not link CONTRIBUTING.md");
});

Deno.test("CONTRIBUTING.md's code map names every module under src/, in its folder's section", () => {
  const guide = Deno.readTextFileSync(join(ROOT, "CONTRIBUTING.md"));
  const missing: string[] = [];
  for (const folder of Deno.readDirSync(join(ROOT, "src"))) {
    if (!folder.isDirectory) continue;
    const start = guide.indexOf(`### \`src/${folder.name}/\``);
    assert.ok(start >= 0, `CONTRIBUTING.md has no section for src/${folder.name}/`);
    const end = guide.indexOf("\n### ", start + 1);
    const section = guide.slice(start, end < 0 ? undefined : end);
    for (const file of Deno.readDirSync(join(ROOT, "src", folder.name))) {
      if (file.name.endsWith(".ts") && !section.includes(`- \`${file.name}\`:`)) {
        missing.push(`src/${folder.name}/${file.name}`);
      }
    }
  }
  assert.deepEqual(missing, []);
});
