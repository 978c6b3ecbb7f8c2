import assert from "node:assert/strict";
import { startFakeOpenWeather, TEST_API_KEY } from "../support/fake_openweather.ts";
import { runToEnd, spawnService } from "../support/process.ts";
import { connect, readResponse, send } from "../support/raw_http.ts";
import { startService } from "../support/service.ts";
import { fetchWithin } from "../support/wait.ts";

const CLIENT_ID = "genesys-cloud";
const CLIENT_SECRET = "a-long-client-secret";
const BUILT_IN_OAUTH = {
  AUTH_MODE: "jwt",
  OAUTH_CLIENT_ID: CLIENT_ID,
  OAUTH_CLIENT_SECRET: CLIENT_SECRET,
  PUBLIC_URL: "https://weather.example.test/",
};

/** Headers that announce a form body and then send none of it. */
const STALLED_TOKEN_REQUEST = "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
  "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n";

Deno.test("a body that does not arrive within REQUEST_DEADLINE_MS is answered 408", async (s) => {
  await using upstream = startFakeOpenWeather();
  await using service = await startService({
    ...BUILT_IN_OAUTH,
    REQUEST_DEADLINE_MS: "300",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  await s.step("POST /oauth/token: headers only", async () => {
    const conn = await connect(service.url);
    try {
      const started = performance.now();
      await send(conn, STALLED_TOKEN_REQUEST);
      const answer = await readResponse(conn, 3000);
      assert.equal(answer.status, 408, answer.text);
      assert.match(answer.text, /\r\nconnection: close\r\n/i);
      assert.match(answer.text, /"error":"invalid_request"/);
      assert.ok(performance.now() - started < 2000, "answered near the deadline");
      // Whatever the client still sends, the connection is not kept for another request.
      await send(conn, "x".repeat(100));
      const rest = await readResponse(conn, 2000);
      assert.equal(rest.closedByServer, true, "the server closed the connection");
    } finally {
      conn.close();
    }
  });
  await s.step("POST /data-action/weather: one chunk, then nothing", async () => {
    const token = await (await fetchWithin(new URL("/oauth/token", service.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    })).json();
    const conn = await connect(service.url);
    try {
      await send(
        conn,
        "POST /data-action/weather HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
          `Authorization: Bearer ${token.access_token}\r\n` +
          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n",
      );
      const answer = await readResponse(conn, 3000);
      assert.equal(answer.status, 408, answer.text);
      assert.match(answer.text, /"error_code":"REQUEST_TIMEOUT"/);
      assert.match(answer.text, /\r\nconnection: close\r\n/i);
    } finally {
      conn.close();
    }
  });
});

/**
 * The resident set size of a process, from /proc. Read through `cat`: Deno
 * asks for --allow-all to read /proc, and `deno task test` grants --allow-run.
 */
async function residentBytes(pid: number): Promise<number> {
  const { stdout } = await runToEnd("cat", { args: [`/proc/${pid}/status`] });
  const kib = new TextDecoder().decode(stdout).match(/^VmRSS:\s+(\d+) kB$/m)?.[1];
  assert.ok(kib, "VmRSS not found");
  return Number(kib) * 1024;
}

Deno.test(
  "stalled POST /oauth/token requests: bounded in flight, answered in time, memory bounded",
  async () => {
    await using upstream = startFakeOpenWeather();
    await using service = spawnService({
      ...BUILT_IN_OAUTH,
      OPENWEATHER_API_KEY: TEST_API_KEY,
      OPENWEATHER_BASE_URL: upstream.url.href,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      REQUEST_DEADLINE_MS: "1000",
      MAX_CONCURRENT_REQUESTS: "100",
    });
    const conns: Deno.TcpConn[] = [];
    try {
      const url = await service.listening();
      const pid = service.child.pid;
      // Warm up the paths the attack takes, so the baseline is not the cold start: three
      // stalled requests at once (one after the other, each would wait out the deadline).
      const warmUp = await Promise.all([0, 1, 2].map(() => connect(url)));
      for (const conn of warmUp) await send(conn, STALLED_TOKEN_REQUEST);
      for (const { status } of await Promise.all(warmUp.map((conn) => readResponse(conn, 3000)))) {
        assert.equal(status, 408, "a warm-up request");
      }
      for (const conn of warmUp) conn.close();
      const before = await residentBytes(pid);

      /** 300 stalled requests at once; resolves when all are answered and their clients gone. */
      const attack = async () => {
        const started = performance.now();
        for (let i = 0; i < 300; i++) {
          const conn = await connect(url);
          conns.push(conn);
          await send(conn, STALLED_TOKEN_REQUEST);
        }
        const health = await fetchWithin(new URL("/healthz", url));
        assert.equal(health.status, 200, "/healthz answers during the attack");
        await health.body?.cancel();

        const answers = await Promise.all(conns.map((conn) => readResponse(conn, 5000)));
        const elapsedMs = performance.now() - started;
        const counts = new Map<number, number>();
        for (const { status } of answers) counts.set(status, (counts.get(status) ?? 0) + 1);
        const timedOut = counts.get(408) ?? 0;
        const refused = counts.get(503) ?? 0;
        assert.equal(timedOut + refused, 300, `statuses: ${JSON.stringify([...counts])}`);
        assert.ok(timedOut <= 100, `at most 100 were read at once, ${timedOut} got 408`);
        assert.ok(refused >= 200, `the rest got 503, ${refused} did`);
        assert.ok(
          answers.every((answer) =>
            answer.status === 408 || /\r\nretry-after: 1\r\n/i.test(answer.text)
          ),
          "every 503 carries Retry-After",
        );
        assert.ok(elapsedMs < 5000, `all answered in ${Math.round(elapsedMs)} ms`);
        const during = await residentBytes(pid);
        for (const conn of conns.splice(0)) conn.close();
        return during;
      };

      const during = [await attack(), await attack(), await attack()];
      // The server notices the sockets the clients closed on its next poll.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await residentBytes(pid);
      const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
      const report = `RSS ${mib(before)} MiB before; during each wave of 300: ${
        during.map(mib).join(", ")
      } MiB; ${mib(after)} MiB after`;
      // V8 and the allocator keep some of what they used; what matters is that it
      // stays bounded (unbounded, 900 stalled requests held about 200 MiB).
      assert.ok(after - before < 64 * 1024 * 1024, report);
      const again = await fetchWithin(new URL("/healthz", url));
      assert.equal(again.status, 200);
      await again.body?.cancel();
    } finally {
      for (const conn of conns) conn.close();
    }
  },
);
