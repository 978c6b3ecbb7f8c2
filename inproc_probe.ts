import { startFakeOpenWeather, TEST_API_KEY } from "./tests/support/fake_openweather.ts";
import { testConfig } from "./tests/support/service.ts";
import { createService } from "./src/service.ts";
import { createLogger } from "./src/process/log.ts";
const upstream = startFakeOpenWeather();
const level = (Deno.args[0] ?? "warn") as "warn" | "info";
const config = testConfig({ OPENWEATHER_API_KEY: TEST_API_KEY, OPENWEATHER_BASE_URL: upstream.url.href, AUTH_MODE: "basic", BASIC_AUTH_USER: "genesys", BASIC_AUTH_PASSWORD: "bench-password", LOG_LEVEL: level });
let lines = 0;
const logger = createLogger({ level, write: () => { lines++; } });
const service = await createService(config, logger);
const auth = `Basic ${btoa("genesys:bench-password")}`;
const body = '{"city_name":"London"}';
const info = { remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 1 } };
const make = () => new Request("http://127.0.0.1:8080/data-action/weather", { method: "POST", headers: { "content-type": "application/json", "content-length": "22", authorization: auth, "inin-correlation-id": "3f0a1b2c-0000-4000-8000-000000000000", host: "127.0.0.1:8080" }, body });
await (await service.handler(make(), info)).text();
const N = Number(Deno.args[1] ?? 200000);
async function run(label: string, f: () => Promise<unknown>) {
  for (let i = 0; i < 20000; i++) await f();
  const t = performance.now();
  for (let i = 0; i < N; i++) await f();
  console.log(label, ((performance.now() - t) * 1000 / N).toFixed(2), "us/iter");
}
for (let k = 0; k < 3; k++) {
await run("baseline: new Request + text()", async () => { const r = make(); await r.text(); return new Response("x", { headers: { "content-type": "a", "cache-control": "b", "x-content-type-options": "c", "inin-correlation-id": "d" } }); });
await run("handler", async () => { const res = await service.handler(make(), info); return res; });
}
await service.close(); await upstream.close();
