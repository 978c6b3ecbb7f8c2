/**
 * The layer order, enforced. A module imports only from its own layer or from
 * one below it, bottom first:
 *
 *   1. src/process/  the runtime: settings reader, logging, the metrics engine,
 *                    timers, outbound HTTP, streams
 *   2. src/http/     HTTP building blocks: error table, responses, route types,
 *                    request body, paths, client address
 *   3. src/store/    the shared store
 *   4. src/weather/  the Data Action's contract, OpenWeatherMap, the cache
 *   5. src/auth/     authenticating callers
 *   6. src/oauth/    the built-in token endpoint
 *   7. src/edge/     the handler and the weather route
 *   8. src/config.ts, src/service.ts, src/startup.ts: the composition root
 *   9. main.ts, serve.ts
 *
 * Every module under src/ must be in a layer: a new folder goes into LAYERS
 * first.
 *
 * Build-time code (tools/, scripts/) and tests may import src/; nothing the
 * service runs imports them, nor loads a package only they need (zod,
 * prom-client, ajv, ajv-draft-04, fast-check, autocannon, velocityjs,
 * jsonpath-plus), not even through another package. CONTRIBUTING.md says
 * why; this test holds it.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).href;

/** Bottom first: a folder (ending in "/") or single files. */
const LAYERS: readonly (readonly string[])[] = [
  ["src/process/"],
  ["src/http/"],
  ["src/store/"],
  ["src/weather/"],
  ["src/auth/"],
  ["src/oauth/"],
  ["src/edge/"],
  ["src/config.ts", "src/service.ts", "src/startup.ts"],
  ["main.ts", "serve.ts"],
];

/** Used by tools/, scripts/ and tests only: the service must load none of them. */
const BUILD_TIME_PACKAGES = new Set([
  "zod",
  "prom-client",
  "ajv",
  "ajv-draft-04",
  "fast-check",
  "autocannon",
  "velocityjs",
  "jsonpath-plus",
]);

/** Read by main.ts for its version; data, not code. */
const DATA_FILES = new Set(["deno.json"]);

function layerOf(path: string): number {
  return LAYERS.findIndex((layer) =>
    layer.some((entry) => entry.endsWith("/") ? path.startsWith(entry) : path === entry)
  );
}

interface ModuleGraph {
  modules: {
    kind: string;
    specifier: string;
    npmPackage?: string;
    dependencies?: {
      code?: { specifier?: string };
      type?: { specifier?: string };
    }[];
  }[];
  redirects: Record<string, string>;
  npmPackages: Record<string, { name: string; dependencies: string[] }>;
}

/** What `deno info` finds from one entry: static, dynamic and type-only imports alike. */
async function moduleGraph(entry: string): Promise<ModuleGraph> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: new URL(ROOT),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.success ? output.stdout : output.stderr);
  assert.ok(output.success, `deno info ${entry}: ${text}`);
  return JSON.parse(text);
}

/** A local module's path from the project root; undefined for npm:, node: and the like. */
function pathOf(specifier: string): string | undefined {
  return specifier.startsWith(ROOT) ? specifier.slice(ROOT.length) : undefined;
}

/** Every import of the module as [importer, imported] specifiers. */
function importsOf(graph: ModuleGraph): [string, string][] {
  return graph.modules.flatMap((module) =>
    (module.dependencies ?? []).flatMap((dependency) =>
      [dependency.code?.specifier, dependency.type?.specifier]
        .filter((target) => target !== undefined)
        .map((target): [string, string] => [module.specifier, graph.redirects[target] ?? target])
    )
  );
}

async function sourceFiles(folder: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL(folder, ROOT))) {
    const path = `${folder}${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(`${path}/`));
    else if (path.endsWith(".ts")) files.push(path);
  }
  return files;
}

/** Why an import breaks the layer order, or undefined when it keeps it. */
function wrongArrow(importer: string, imported: string): string | undefined {
  if (/^(tools|scripts)\//.test(imported)) return "build-time code";
  if (DATA_FILES.has(imported)) return undefined;
  const from = layerOf(importer);
  const to = layerOf(imported);
  if (from === -1) return "its importer is in no layer (add it to LAYERS)";
  if (to === -1) return "a module in no layer";
  if (to > from) {
    return `a higher layer (${LAYERS[to]!.join(", ")} above ${LAYERS[from]!.join(", ")})`;
  }
  return undefined;
}

Deno.test("src/, main.ts and serve.ts import only down the layer order, never tools/ or scripts/", async () => {
  const files = [...await sourceFiles("src/"), "main.ts", "serve.ts"];
  const seen = new Set<string>();
  const arrows = new Set<string>();
  const wrong: string[] = [];
  // Each `deno info` reads a whole graph: start from the entries, then from
  // whatever they do not reach (modules only tools/ or tests use).
  for (const file of ["main.ts", "serve.ts", ...files]) {
    if (seen.has(file)) continue;
    const graph = await moduleGraph(file);
    for (const module of graph.modules) {
      const path = pathOf(module.specifier);
      if (path !== undefined) seen.add(path);
    }
    for (const [from, to] of importsOf(graph)) {
      const importer = pathOf(from);
      const imported = pathOf(to);
      if (importer === undefined || imported === undefined || !files.includes(importer)) continue;
      if (arrows.has(`${importer} ${imported}`)) continue;
      arrows.add(`${importer} ${imported}`);
      const why = wrongArrow(importer, imported);
      if (why !== undefined) wrong.push(`${importer} imports ${imported}: ${why}`);
    }
  }
  for (const file of files) {
    if (layerOf(file) === -1) wrong.push(`${file} is in no layer (add it to LAYERS)`);
  }
  // The graph was read at all: an empty answer would pass anything.
  assert.ok(arrows.size > 100, `only ${arrows.size} imports found`);
  assert.deepEqual(wrong.sort(), []);
});

/**
 * Every npm package the graph loads, by name, with how it is reached: the
 * module that imports it, then each package that depends on the next. Only
 * packages reachable from the graph's own imports count, not every package
 * the lock file lists.
 */
function packagesLoaded(graph: ModuleGraph): Map<string, string> {
  const packageOf = new Map(
    graph.modules.filter((module) => module.kind === "npm").map((module) => [
      module.specifier,
      module.npmPackage ?? module.specifier.replace(/^npm:\/?/, ""),
    ]),
  );
  const reachedBy = new Map<string, string>();
  const queue: string[] = [];
  const reach = (id: string, how: string) => {
    if (reachedBy.has(id)) return;
    reachedBy.set(id, how);
    queue.push(id);
  };
  for (const [from, to] of importsOf(graph)) {
    const id = packageOf.get(to);
    if (id !== undefined) reach(id, `${pathOf(from) ?? from} imports ${id}`);
  }
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const dependency of graph.npmPackages[id]?.dependencies ?? []) {
      reach(dependency, `${reachedBy.get(id)}, which depends on ${dependency}`);
    }
  }
  // "@scope/name@1.2.3_peer@4.5.6" is the package "@scope/name".
  const nameOf = (id: string) => graph.npmPackages[id]?.name ?? id.match(/^@?[^@]+/)![0];
  return new Map([...reachedBy].map(([id, how]) => [nameOf(id), how]));
}

Deno.test("main.ts and serve.ts load no build-time or test package", async (t) => {
  for (const entry of ["main.ts", "serve.ts"]) {
    await t.step(entry, async () => {
      const loaded = packagesLoaded(await moduleGraph(entry));
      // The graph's packages were found at all: the service does load jose.
      assert.ok(loaded.has("jose"), [...loaded.keys()].join(", "));
      const buildTime = [...loaded].filter(([name]) => BUILD_TIME_PACKAGES.has(name));
      assert.deepEqual(buildTime.map(([, how]) => how), []);
    });
  }
});
