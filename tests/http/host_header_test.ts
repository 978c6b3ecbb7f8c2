import assert from "node:assert/strict";
import { startFakeOpenWeather } from "../support/fake_openweather.ts";
import { exchange } from "../support/raw_http.ts";
import { startService } from "../support/service.ts";

const CLIENT_ID = "genesys-cloud";
const CLIENT_SECRET = "a-long-client-secret";

Deno.test("a Host header cannot pick the route: anything but a host name is 400", async (s) => {
  const upstream = startFakeOpenWeather();
  const service = await startService({
    AUTH_MODE: "jwt",
    OAUTH_CLIENT_ID: CLIENT_ID,
    OAUTH_CLIENT_SECRET: CLIENT_SECRET,
    PUBLIC_URL: "https://weather.example.test/",
    OPENWEATHER_BASE_URL: upstream.url.href,
  });
  const request = (target: string, host: string, headers = "", body = "") =>
    exchange(
      service.url,
      `${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${headers}\r\n${body}`,
    );
  try {
    await s.step("GET /healthz with Host: x/metrics? is 400, not the metrics", async () => {
      const answer = await request("GET /healthz", "x/metrics?");
      assert.equal(answer.status, 400, answer.text);
      assert.match(answer.text, /"error_code":"INVALID_HOST"/);
      assert.doesNotMatch(answer.text, /# HELP/);
    });
    await s.step(
      "POST /data-action/weather with Host: x/oauth/token? issues no token",
      async () => {
        const form = "grant_type=client_credentials";
        const answer = await request(
          "POST /data-action/weather",
          "x/oauth/token?",
          `Authorization: Basic ${btoa(`${CLIENT_ID}:${CLIENT_SECRET}`)}\r\n` +
            "Content-Type: application/x-www-form-urlencoded\r\n" +
            `Content-Length: ${form.length}\r\n`,
          form,
        );
        assert.equal(answer.status, 400, answer.text);
        assert.doesNotMatch(answer.text, /access_token/);
      },
    );
    for (const host of ["x/metrics", "x?a", "x#a", "user@x", "x\\metrics", "x metrics"]) {
      await s.step(`Host: ${JSON.stringify(host)} is 400`, async () => {
        const answer = await request("GET /healthz", host);
        assert.equal(answer.status, 400, answer.text);
      });
    }
    await s.step("ordinary hosts and ports are served as before", async () => {
      for (const host of ["127.0.0.1:8080", "weather.example.test", "[::1]:80", "localhost"]) {
        const answer = await request("GET /healthz", host);
        assert.equal(answer.status, 200, `${host}: ${answer.text}`);
      }
    });
    await s.step("the access log records the real path, never one made from Host", () => {
      const paths = service.logLines.map((line) => JSON.parse(line))
        .filter((entry) => entry.msg === "request").map((entry) => entry.path);
      assert.ok(!paths.includes("/metrics"), JSON.stringify(paths));
      assert.ok(!paths.includes("/oauth/token"), JSON.stringify(paths));
    });
  } finally {
    await service.close();
    await upstream.close();
  }
});
