/**
 * The operations kit in deploy/: promtool's own checks and rule unit tests,
 * the Grafana dashboard's shape, and a real Prometheus scraping the real
 * service, firing the "key refused" alert, and evaluating every shipped rule
 * against the metrics the service really exports.
 */

import assert from "node:assert/strict";
import { startFakeKeyHost } from "./support/fake_jwks.ts";
import { startFakeOpenWeather, TEST_API_KEY } from "./support/fake_openweather.ts";
import { spawnService } from "./support/process.ts";
import { startRedis } from "./support/redis.ts";
import { runPrometheusTool, startPrometheus } from "./support/prometheus.ts";
import { tempDir } from "./support/temp_dir.ts";
import { generateTestKey, signToken } from "./support/tokens.ts";
import { fetchWithin, pollUntil } from "./support/wait.ts";
import { headingAnchors } from "./support/markdown.ts";

const ROOT = new URL("../", import.meta.url);
const PROMETHEUS_DIR = new URL("deploy/prometheus/", ROOT).pathname;
const ALERTS_FILE = `${PROMETHEUS_DIR}alerts.yml`;
const RECORDING_FILE = `${PROMETHEUS_DIR}recording_rules.yml`;
const DASHBOARD_FILE = new URL("deploy/grafana/genesys-weather-action.json", ROOT).pathname;
/** Where the alerts' runbook lives: each alert links one of its headings. */
const RUNBOOK = new URL("docs/operations.md", ROOT).pathname;

/** The scrape job the shipped rules select on. */
const JOB = "genesys-weather-action";
const ISSUER = "https://idp.example.test/";
const AUDIENCE = "api://genesys-weather";

Deno.test("deploy/prometheus passes promtool check config, check rules and its rule unit tests", async (t) => {
  const promtool = async (...args: string[]) => {
    const { code, output } = await runPrometheusTool("promtool", args);
    assert.equal(code, 0, `promtool ${args.join(" ")} failed:\n${output}`);
    return output;
  };
  await t.step("check config (the example, with both rule files)", async () => {
    const output = await promtool("check", "config", `${PROMETHEUS_DIR}prometheus.yml`);
    assert.match(output, /SUCCESS: 2 rule files found/);
  });
  await t.step("check rules", async () => {
    const output = await promtool("check", "rules", RECORDING_FILE, ALERTS_FILE);
    assert.match(output, /SUCCESS: 11 rules found/);
  });
  await t.step(
    "test rules: every alert fires on its series and stays silent on the other",
    async () => {
      const output = await promtool("test", "rules", `${PROMETHEUS_DIR}alerts_test.yml`);
      assert.match(output, /SUCCESS/);
      // Each alert needs a test that fires it and one that must not.
      const tests = await Deno.readTextFile(`${PROMETHEUS_DIR}alerts_test.yml`);
      for (const alert of alertNames(await Deno.readTextFile(ALERTS_FILE))) {
        const cases = [...tests.matchAll(new RegExp(`- name: ${alert} (\\w+)`, "g"))].map((m) =>
          m[1]
        );
        assert.ok(cases.includes("fires"), `${alert} has no test that fires it`);
        assert.ok(cases.includes("stays"), `${alert} has no test where it stays silent`);
      }
    },
  );
});

Deno.test("Grafana dashboard is current-schema JSON with a datasource variable and no fixed UIDs", async () => {
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD_FILE)) as Dashboard;
  assert.ok(dashboard.schemaVersion >= 39, `schemaVersion ${dashboard.schemaVersion}`);
  assert.equal(dashboard.uid, undefined, "the dashboard carries no UID of its own");
  const variable = dashboard.templating.list.find((item) => item.name === "datasource");
  assert.deepEqual(
    { type: variable?.type, query: variable?.query },
    { type: "datasource", query: "prometheus" },
  );
  const uids = [...JSON.stringify(dashboard).matchAll(/"uid":\s*"([^"]*)"/g)].map((m) => m[1]);
  assert.ok(uids.length > 0);
  assert.deepEqual(new Set(uids), new Set(["${datasource}"]));
  const panels = dashboard.panels.filter((panel) => panel.type !== "row");
  assert.ok(panels.length >= 10, `${panels.length} panels`);
  for (const panel of panels) {
    assert.ok(
      panel.targets.length > 0 && panel.targets.every((target) => target.expr),
      panel.title,
    );
  }
});

Deno.test("Prometheus scrapes the service, fires OpenWeatherKeyRefused on a 401, and every rule reads real metrics", async (t) => {
  // Prometheus first: it scrapes a new target only at its next 5 s reload, so
  // that wait runs while the rest starts. The target file names the service once it listens.
  using workDir = tempDir("monitoring-test-");
  const targetsFile = `${workDir.path}/targets.json`;
  await Deno.writeTextFile(targetsFile, "[]");
  await using prometheus = await startPrometheus(await writeTestConfig(workDir.path, targetsFile));
  const api = prometheus.api.bind(prometheus);

  const key = await generateTestKey("key-1");
  await using keyHost = startFakeKeyHost([key.publicJwk]);
  await using upstream = startFakeOpenWeather();
  upstream.respondWith(() =>
    Response.json({ cod: 401, message: "Invalid API key" }, { status: 401 })
  );
  // A real shared store, so its metrics are exported and checked like the others.
  await using redis = await startRedis();
  await using service = spawnService({
    SHARED_STORE_URL: redis.url,
    OPENWEATHER_API_KEY: TEST_API_KEY,
    OPENWEATHER_BASE_URL: upstream.url.href,
    HOST: "127.0.0.1",
    PORT: "0",
    AUTH_MODE: "jwt",
    AUTH_JWKS_URL: keyHost.url.href,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
  });
  const url = await service.listening();
  // Written whole, then moved into place: Prometheus never reads half a file.
  await Deno.writeTextFile(`${targetsFile}.new`, JSON.stringify([{ targets: [url.host] }]));
  await Deno.rename(`${targetsFile}.new`, targetsFile);

  await t.step("the service is scraped (target up)", async () => {
    const targets = await pollUntil("the target to be up", async () => {
      const { activeTargets } = await api<{ activeTargets: Target[] }>("api/v1/targets");
      return activeTargets.some((target) => target.health === "up") ? activeTargets : undefined;
    }, { timeoutMs: 15_000, intervalMs: 100 });
    assert.deepEqual(targets.map((target) => [target.labels.job, target.health]), [[JOB, "up"]]);
  });

  await t.step("a 401 from OpenWeatherMap makes OpenWeatherKeyRefused fire", async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const token = await signToken({ key, nowS, claims: { iss: ISSUER, aud: AUDIENCE } });
    for (const city of ["London", "Paris", "Berlin"]) {
      const response = await fetchWithin(new URL("/data-action/weather", url), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ city_name: city }),
      });
      assert.equal(response.status, 200);
      assert.equal((await response.json()).error_code, "UPSTREAM_AUTH_FAILED");
    }
    const alerts = await pollUntil("OpenWeatherKeyRefused to fire", async () => {
      const { alerts } = await api<{ alerts: Alert[] }>("api/v1/alerts");
      const mine = alerts.filter((alert) => alert.labels.alertname === "OpenWeatherKeyRefused");
      return mine.some((alert) => alert.state === "firing") ? mine : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    // The test copy (for: 1s) fires; the shipped rule (for: 1m) is at least pending.
    const states = Object.fromEntries(
      alerts.map((alert) => [alert.labels.copy ?? "shipped", alert.state]),
    );
    assert.equal(states["test"], "firing");
    assert.ok(["pending", "firing"].includes(states["shipped"]!), JSON.stringify(alerts));
    const firing = alerts.find((alert) => alert.labels.copy === "test")!;
    assert.equal(firing.labels.job, JOB);
    assert.equal(firing.labels.severity, "critical");
  });

  const groups = (await api<{ groups: RuleGroup[] }>("api/v1/rules")).groups;
  const rules = groups.flatMap((group) => group.rules);

  await t.step("every shipped rule evaluates without error on the real metrics", () => {
    const shipped = groups.filter((group) => group.file !== `${workDir.path}/test_rules.yml`);
    assert.equal(shipped.flatMap((group) => group.rules).length, 26);
    for (const rule of shipped.flatMap((group) => group.rules)) {
      assert.equal(rule.health, "ok", `${rule.name}: ${rule.lastError}`);
    }
  });

  await t.step(
    "every alert has a severity, a summary and a description with a runbook in docs/operations.md",
    async () => {
      const anchors = headingAnchors(await Deno.readTextFile(RUNBOOK));
      const alerting = rules.filter((rule) => rule.type === "alerting" && !rule.labels?.copy);
      assert.equal(alerting.length, 11);
      for (const rule of alerting) {
        assert.ok(["critical", "warning"].includes(rule.labels?.severity ?? ""), rule.name);
        assert.ok(rule.annotations?.summary, `${rule.name} has no summary`);
        const runbook = rule.annotations?.description?.match(/docs\/operations\.md#([\w-]+)/)?.[1];
        assert.ok(runbook, `${rule.name} links no runbook entry in docs/operations.md`);
        assert.ok(anchors.has(runbook), `${rule.name}: docs/operations.md has no #${runbook}`);
      }
    },
  );

  await t.step(
    "every metric and label the rules and the dashboard use is in /metrics",
    async () => {
      const response = await fetchWithin(new URL("/metrics", url));
      const exported = parseExposition(await response.text());
      const recorded = new Set(
        rules.filter((rule) => rule.type === "recording").map((rule) => rule.name),
      );
      const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD_FILE)) as Dashboard;
      const queries = [
        ...rules.filter((rule) => !rule.labels?.copy).map((rule) => ({
          where: `rule ${rule.name}`,
          expr: rule.query,
        })),
        ...dashboard.panels.flatMap((panel) =>
          (panel.targets ?? []).map((target) => ({
            where: `panel "${panel.title}"`,
            expr: target.expr,
          }))
        ),
      ];
      const checked = new Set<string>();
      for (const { where, expr } of queries) {
        // Labels a query groups by must come from a metric it reads from /metrics, or the
        // grouping silently merges what it means to keep apart (the `action` of each answer).
        const exportedFamilies = selectorsOf(expr)
          .filter((selector) => !recorded.has(selector.name) && selector.name !== "up")
          .map((selector) => exported.get(selector.name));
        const grouped = [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)]
          .flatMap(([, labels]) => labels!.split(",").map((label) => label.trim()))
          .filter((label) => !["", "job", "instance", "le"].includes(label));
        if (exportedFamilies.length > 0) {
          for (const label of grouped) {
            assert.ok(
              exportedFamilies.some((family) => family?.has(label)),
              `${where} groups by ${label}, which no metric it reads from /metrics has`,
            );
          }
        }
        for (const selector of selectorsOf(expr)) {
          if (recorded.has(selector.name)) continue;
          if (selector.name === "up") continue; // Prometheus's own series per target.
          const family = exported.get(selector.name);
          assert.ok(family, `${where} uses ${selector.name}, which /metrics does not export`);
          checked.add(selector.name);
          for (const matcher of selector.matchers) {
            if (matcher.label === "job" || matcher.label === "instance") continue;
            const values = family.get(matcher.label);
            assert.ok(values, `${where}: ${selector.name} has no label ${matcher.label}`);
            if (matcher.op === "=") {
              assert.ok(
                values.has(matcher.value),
                `${where}: ${selector.name}{${matcher.label}="${matcher.value}"} is never exported`,
              );
            }
          }
        }
      }
      // The parser must have found the metrics the kit is about, or this test proves nothing.
      for (
        const name of [
          "weather_answers_total",
          "http_request_duration_seconds_bucket",
          "weather_request_deadline_seconds",
          "openweather_calls_total",
          "openweather_call_budget_remaining",
          "weather_cache_lookups_total",
          "http_requests_total",
          "auth_token_verifications_total",
          "auth_key_set_usable",
          "process_resident_memory_bytes",
        ]
      ) {
        assert.ok(checked.has(name), `no rule or panel reads ${name}`);
      }
    },
  );
});

/**
 * A Prometheus configuration for the test: 500 ms scrapes and evaluations,
 * the shipped rule files, a copy of OpenWeatherKeyRefused with `for: 1s` so
 * it fires within the test's time (labelled `copy: test`), and the service's
 * address read from `targetsFile` (file-based discovery: it may come later).
 */
async function writeTestConfig(dir: string, targetsFile: string): Promise<string> {
  const alerts = await Deno.readTextFile(ALERTS_FILE);
  const testRules = {
    groups: [{
      name: "monitoring-test",
      rules: [{
        alert: "OpenWeatherKeyRefused",
        expr: alertExpression(alerts, "OpenWeatherKeyRefused"),
        for: "1s",
        labels: { severity: "critical", copy: "test" },
      }],
    }],
  };
  // JSON is YAML, so Prometheus reads these files as they are.
  await Deno.writeTextFile(`${dir}/test_rules.yml`, JSON.stringify(testRules));
  const config = {
    global: { scrape_interval: "500ms", evaluation_interval: "500ms" },
    rule_files: [RECORDING_FILE, ALERTS_FILE, `${dir}/test_rules.yml`],
    scrape_configs: [{
      job_name: JOB,
      file_sd_configs: [{ files: [targetsFile], refresh_interval: "1s" }],
    }],
  };
  await Deno.writeTextFile(`${dir}/prometheus.yml`, JSON.stringify(config));
  return `${dir}/prometheus.yml`;
}

function alertNames(alertsYaml: string): string[] {
  return [...alertsYaml.matchAll(/^\s*- alert: (\w+)$/gm)].map((match) => match[1]!);
}

/** The `expr` of one alert in alerts.yml (a one-line or a folded `>-` scalar). */
function alertExpression(alertsYaml: string, alert: string): string {
  const block = alertsYaml.split(/^\s*- alert: /m).find((part) => part.startsWith(`${alert}\n`));
  const expr = block?.match(/\n\s+expr: (?:>-\n)?([\s\S]*?)\n\s+for:/)?.[1];
  if (!expr) throw new Error(`No expr for ${alert} in alerts.yml`);
  return expr.split("\n").map((line) => line.trim()).join(" ");
}

/** Metric name → label name → values seen, from the Prometheus text format. */
function parseExposition(text: string): Map<string, Map<string, Set<string>>> {
  const families = new Map<string, Map<string, Set<string>>>();
  for (const line of text.split("\n")) {
    const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/);
    if (!match) continue;
    const labels = families.get(match[1]!) ?? new Map<string, Set<string>>();
    families.set(match[1]!, labels);
    for (const [, label, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      const values = labels.get(label!) ?? new Set<string>();
      values.add(value!);
      labels.set(label!, values);
    }
  }
  return families;
}

interface Selector {
  name: string;
  matchers: { label: string; op: string; value: string }[];
}

const PROMQL_KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
]);

/**
 * The vector selectors of a PromQL expression, crudely: a metric name with
 * its `{...}` matchers, or a bare metric name. Function names (followed by
 * `(`), keywords, grouping label lists, ranges and numbers are not selectors.
 */
function selectorsOf(expr: string): Selector[] {
  const selectors: Selector[] = [];
  const withoutGroupings = expr.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
    "",
  ).replace(/\[[^\]]*\]/g, "");
  const pattern = /([a-zA-Z_:][\w:]*)?\s*(\{[^}]*\})|([a-zA-Z_:][\w:]*)(?=\s*(\()?)/g;
  for (const match of withoutGroupings.matchAll(pattern)) {
    const [, named, braces, bare] = match;
    if (braces !== undefined) {
      if (!named) throw new Error(`Selector without a metric name in: ${expr}`);
      const matchers = [...braces.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((m) => ({
        label: m[1]!,
        op: m[2]!,
        value: m[3]!,
      }));
      selectors.push({ name: named, matchers });
    } else if (bare && match[4] === undefined && !PROMQL_KEYWORDS.has(bare)) {
      selectors.push({ name: bare, matchers: [] });
    }
  }
  return selectors;
}

interface Dashboard {
  uid?: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: string }[] };
  panels: { type: string; title: string; targets: { expr: string }[] }[];
}

interface Target {
  labels: Record<string, string>;
  health: string;
}

interface Alert {
  labels: Record<string, string>;
  state: string;
}

interface RuleGroup {
  file: string;
  rules: {
    type: "alerting" | "recording";
    name: string;
    query: string;
    health: string;
    lastError?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  }[];
}
