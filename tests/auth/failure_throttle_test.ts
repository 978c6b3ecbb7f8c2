import assert from "node:assert/strict";
import fc from "fast-check";
import { createFailureThrottle, failureKey } from "../../src/auth/failure_throttle.ts";

Deno.test("failureKey() is bounded whatever it is given, and counts an IPv6 client per /64", () => {
  assert.equal(failureKey("genesys", "203.0.113.9"), "genesys\u0000203.0.113.9");
  assert.equal(failureKey("genesys", "2001:db8:1:2::7"), "genesys\u00002001:db8:1:2::/64");
  assert.equal(
    failureKey("genesys", "2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
    failureKey("genesys", "2001:db8:1:2::1"),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 1000 }), fc.string({ maxLength: 1000 }), (id, address) => {
      assert.ok(failureKey(id, address).length <= 128 + 1 + 64);
    }),
  );
  const long = "x".repeat(50_000);
  assert.equal(failureKey(long, `fe80::1%${long}`), `${"x".repeat(128)}\u0000fe80::/64`);
  assert.equal(failureKey(long, long), `${"x".repeat(128)}\u0000${"x".repeat(64)}`);
});

Deno.test("createFailureThrottle() answers 429 past maxFailures a window, per key", () => {
  let now = 0;
  const throttle = createFailureThrottle({ maxFailures: 3, windowMs: 60_000, now: () => now });
  const key = failureKey("genesys", "2001:db8:1:2::1");
  for (let i = 0; i < 3; i++) assert.equal(throttle.recordFailure(key).retryAfterS, 0);
  assert.equal(throttle.recordFailure(failureKey("genesys", "2001:db8:1:2::2")).retryAfterS, 60);
  assert.equal(throttle.recordFailure(failureKey("genesys", "2001:db8:1:3::1")).retryAfterS, 0);
  now += 60_000;
  assert.equal(throttle.recordFailure(key).retryAfterS, 0);
});
