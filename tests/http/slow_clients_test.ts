import assert from "node:assert/strict";
import { startFakeOpenWeather, TEST_API_KEY } from "../support/fake_openweather.ts";
import { runToEnd, spawnService } from "../support/process.ts";
import { connect, type RawAnswer, readResponse, send } from "../support/raw_http.ts";
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

/**
 * The stalled bodies that cost a server the most, a read pending on a part-filled
 * buffer: 4,000 of 16,000 announced bytes, or one 4,000-byte chunk of a chunked body
 * (as Genesys sends bodies, with no length), and then nothing.
 */
const PARTS_OF_TOKEN_REQUESTS = [
  "Content-Length: 16000\r\n\r\n" + "a".repeat(4000),
  "Transfer-Encoding: chunked\r\n\r\nfa0\r\n" + "a".repeat(4000) + "\r\n",
].map((rest) =>
  "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
  "Content-Type: application/x-www-form-urlencoded\r\n" + rest
);

const MIB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MIB).toFixed(1);

Deno.test(
  "stalled bodies in waves: reads bounded by MAX_CONCURRENT_REQUESTS, memory flat, /healthz and keep-alive intact",
  async () => {
    const SLOTS = 100;
    const WAVES = 8;
    const WAVE_SIZE = 300;
    await using upstream = startFakeOpenWeather();
    await using service = spawnService({
      ...BUILT_IN_OAUTH,
      OPENWEATHER_API_KEY: TEST_API_KEY,
      OPENWEATHER_BASE_URL: upstream.url.href,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      REQUEST_DEADLINE_MS: "1000",
      MAX_CONCURRENT_REQUESTS: String(SLOTS),
    });
    // Every connection stays open to the end: a stalled client never gives up on its own.
    const conns: Deno.TcpConn[] = [];
    try {
      const url = await service.listening();
      const pid = service.child.pid;
      // Warm up the path the attack takes, so the baseline is not the cold start.
      const warmUp = await connect(url);
      await send(warmUp, PARTS_OF_TOKEN_REQUESTS[0]!);
      assert.equal((await readResponse(warmUp, 3000)).status, 408, "the warm-up request");
      warmUp.close();
      const before = await residentBytes(pid);

      const answers: Promise<number>[] = [];
      const growth: number[] = [];
      for (let wave = 0; wave < WAVES; wave++) {
        const started = performance.now();
        for (let i = 0; i < WAVE_SIZE; i++) {
          const conn = await connect(url);
          conns.push(conn);
          await send(conn, PARTS_OF_TOKEN_REQUESTS[i % 2]!);
          answers.push(
            readResponse(conn, 10_000).then((answer) => {
              assert.ok(
                answer.status === 408 || /\r\nretry-after: 1\r\n/i.test(answer.text),
                `a 408, or a 503 with Retry-After: ${answer.text.slice(0, 200)}`,
              );
              return answer.status;
            }),
          );
        }
        const health = await fetchWithin(new URL("/healthz", url));
        assert.equal(health.status, 200, `/healthz answers in wave ${wave + 1}`);
        await health.body?.cancel();
        // Waves half a deadline apart: every deadline, slots a 408 had freed were refilled.
        const elapsed = performance.now() - started;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 500 - elapsed)));
        growth.push((await residentBytes(pid)) - before);
      }
      const statuses = await Promise.all(answers);
      const timedOut = statuses.filter((status) => status === 408).length;
      const report =
        `RSS growth after each wave of ${WAVE_SIZE}: ${growth.map(mib).join(", ")} MiB; ` +
        `${timedOut} answered 408, ${statuses.length - timedOut} answered 503`;

      // Each 408 is a body read that is still pending: none of these clients sends the rest.
      assert.ok(timedOut <= SLOTS, `at most ${SLOTS} body reads ever in flight; ${report}`);
      assert.ok(growth.at(-1)! < 100 * MIB, `under 100 MiB; ${report}`);
      // Once the slots are full, each further stalled client costs only what Deno keeps
      // for an open socket (about 22 KiB, measured with a bare Deno.serve answering 503);
      // left unbounded, each pending read held about 128 KiB.
      const laterWaves = WAVES - 3;
      const perClient = (growth.at(-1)! - growth[2]!) / (laterWaves * WAVE_SIZE);
      assert.ok(perClient < 40 * 1024, `flat past the third wave; ${report}`);

      // A client with a whole body is served on a kept-alive connection meanwhile, once
      // a slot is free: close the stalled clients, and their reads end.
      for (const conn of conns.splice(0)) conn.close();
      const form = "grant_type=client_credentials&client_id=" + CLIENT_ID + "&client_secret=" +
        CLIENT_SECRET;
      const conn = await connect(url);
      conns.push(conn);
      for (const attempt of [1, 2]) {
        const answer = await pollStatus(conn, form);
        assert.equal(answer.status, 200, `token request ${attempt}: ${answer.text.slice(0, 300)}`);
        assert.equal(answer.closedByServer, false, "the connection is kept alive");
      }
    } finally {
      for (const conn of conns) conn.close();
    }
  },
);

/**
 * Sends a whole token request on `conn` and reads its answer; a 503 (slots still
 * held while the server notices the closed sockets) is retried, for at most 5 s.
 */
async function pollStatus(conn: Deno.TcpConn, form: string): Promise<RawAnswer> {
  const request = "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
    "Content-Type: application/x-www-form-urlencoded\r\n" +
    `Content-Length: ${form.length}\r\n\r\n${form}`;
  const deadline = Date.now() + 5000;
  for (;;) {
    await send(conn, request);
    const answer = await readResponse(conn, 3000);
    if (answer.status !== 503 || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
