/**
 * The Redis user docs/deployment.md tells each deployment to create, created
 * with the very command the docs give, on a real redis-server: the service
 * does everything it does through it (the cache, a not-found, the budget, a
 * back-off, the forecast) with no command refused, and that user can do
 * nothing outside its prefix.
 */

import assert from "node:assert/strict";
import { ERROR_BODIES, startFakeOpenWeather } from "../support/fake_openweather.ts";
import { TestClock } from "../support/clock.ts";
import { type RunningService, startService } from "../support/service.ts";
import { startRedis } from "../support/redis.ts";
import { fetchWithin } from "../support/wait.ts";

const DOCS = new URL("../../docs/deployment.md", import.meta.url);

/** The `redis-cli ACL SETUSER ...` line of the docs, as the words Redis gets (shell quotes removed). */
function documentedAclCommand(): string[] {
  const line = Deno.readTextFileSync(DOCS).match(/^redis-cli (ACL SETUSER .+)$/m)?.[1];
  assert.ok(line, "docs/deployment.md gives a `redis-cli ACL SETUSER ...` command");
  return line.split(/\s+/).map((word) => word.replace(/^'(.*)'$/, "$1"));
}

/** The documented command for another deployment: its own user, password and prefix. */
function forDeployment(command: string[], user: string, password: string, prefix: string) {
  return command.map((word) =>
    word === "weather-prod"
      ? user
      : word.startsWith(">")
      ? `>${password}`
      : word.startsWith("~")
      ? `~${prefix}*`
      : word
  );
}

async function metricsText(service: RunningService): Promise<string> {
  return await (await fetchWithin(new URL("/metrics", service.url))).text();
}

Deno.test("the Redis user docs/deployment.md gives a deployment is enough for the service, and no more", async (t) => {
  const command = documentedAclCommand();
  const user = command[2]!;
  const password = command.find((word) => word.startsWith(">"))!.slice(1);
  const prefix = command.find((word) => word.startsWith("~"))!.slice(1, -1);
  assert.deepEqual([user, prefix], ["weather-prod", "genesys-weather-prod:"]);
  const other = { user: "weather-test", password: "another-long-password", prefix: "gwa-test:" };

  await using redis = await startRedis();
  assert.equal(await redis.command(...command), "+OK\r\n");
  assert.equal(
    await redis.command(...forDeployment(command, other.user, other.password, other.prefix)),
    "+OK\r\n",
  );

  const clock = new TestClock();
  await using upstream = startFakeOpenWeather();
  const start = (as: { user: string; password: string; prefix: string }) =>
    startService({
      OPENWEATHER_BASE_URL: upstream.url.href,
      OPENWEATHER_FORECAST_URL: upstream.forecastUrl.href,
      SHARED_STORE_URL: `redis://${as.user}:${as.password}@127.0.0.1:${redis.port}/0`,
      SHARED_STORE_PREFIX: as.prefix,
      SHARED_STORE_TIMEOUT_MS: "1000",
    }, { clock });
  await using prod = await start({ user, password, prefix });
  await using test = await start(other);

  await t.step("every command the service sends is allowed", async () => {
    const ask = async (service: RunningService, path: string, city: string) => {
      const response = await service.post(path, { city_name: city });
      assert.equal(response.status, 200);
      return await response.json();
    };
    for (const service of [prod, test]) {
      assert.equal((await ask(service, "/data-action/weather", "London")).city, "London");
      assert.equal((await ask(service, "/data-action/forecast", "London")).city, "London");
      assert.equal(
        (await ask(service, "/data-action/weather", "Atlantis")).error_code,
        "CITY_NOT_FOUND",
      );
    }
    // Past the TTL, with OpenWeatherMap refusing: a stale answer from the store, and a back-off.
    clock.advance(601_000);
    upstream.respondWith(() => Response.json(ERROR_BODIES[429], { status: 429 }));
    const stale = await ask(prod, "/data-action/weather", "London");
    assert.equal(stale.stale, true);
    upstream.respondWith(undefined);
    assert.equal(await redis.command("ACL", "LOG"), "*0\r\n", "Redis refused no command");
    for (const service of [prod, test]) {
      const text = await metricsText(service);
      assert.match(text, /^shared_store_up\{backend="redis"\} 1$/m);
      assert.doesNotMatch(text, /^shared_store_errors_total\{.*\} [1-9]/m);
    }
    assert.equal(await redis.commandAs(user, password, "PING"), "+PONG\r\n");
    assert.match(await redis.command("EXISTS", `${prefix}backoff`), /^:1\r\n$/);
  });

  await t.step("each deployment's keys are under its own prefix", async () => {
    const keys = (await redis.command("KEYS", "*")).split("\r\n").filter((line) =>
      line !== "" && !/^[*$]/.test(line)
    );
    assert.ok(keys.some((key) => key.startsWith(prefix)));
    assert.ok(keys.some((key) => key.startsWith(other.prefix)));
    assert.deepEqual(
      keys.filter((key) => !key.startsWith(prefix) && !key.startsWith(other.prefix)),
      [],
    );
  });

  await t.step("the user can touch nothing outside its prefix", async () => {
    const otherKey = `${other.prefix}backoff`;
    for (
      const words of [
        ["GET", otherKey],
        ["SET", otherKey, "UPSTREAM_AUTH_FAILED"],
        ["DEL", otherKey],
        ["EVAL", "return redis.call('DEL', KEYS[1])", "1", otherKey],
        ["EVAL", `return redis.call('DEL', '${otherKey}')`, "0"],
        ["FLUSHALL"],
        ["KEYS", "*"],
        ["CONFIG", "GET", "*"],
        ["ACL", "LIST"],
      ]
    ) {
      assert.match(
        await redis.commandAs(user, password, ...words),
        // A script's own refusal is an ERR that says why.
        /^-(NOPERM |ERR The user executing the script can't access)/,
        words.join(" "),
      );
    }
  });
});
