/**
 * MAX_CONCURRENT_REQUESTS as slots, held by requests being handled and by the
 * body reads that outlive their request.
 *
 * A request whose body does not arrive in time is answered `408`, and its
 * read is left running: cancelled, Deno would keep the connection open for
 * another request despite the answer's `Connection: close`, and would still
 * hold its own buffer for the read until the client closes (measured: about
 * 58 KiB per cancelled read, every one adding to memory). So such a read
 * keeps its request's slot until it ends, and body reads in flight never
 * number more than the slots. Stalled clients can then hold every slot, and
 * other callers get `503` until they are gone: ending them is the proxy's job
 * (docs/security.md says why no separate cap for them).
 */

import type { BodyRead } from "../process/bounded_body.ts";

export interface RequestSlots {
  /** Takes a slot for a request; false when none is free. */
  take(): boolean;
  /** Gives a request's slot back, once `bodyRead` (when it has one) has ended. */
  release(bodyRead: BodyRead | undefined): void;
  /** Slots in use: by requests being handled, and by reads that outlived theirs. */
  inUse(): { requests: number; lateBodyReads: number };
}

export function createRequestSlots(slots: number): RequestSlots {
  let requests = 0;
  let lateBodyReads = 0;
  return {
    take() {
      if (requests + lateBodyReads >= slots) return false;
      requests++;
      return true;
    },
    release(bodyRead) {
      requests--;
      if (bodyRead === undefined || bodyRead.done) return;
      lateBodyReads++;
      bodyRead.bytes.catch(() => {}).finally(() => lateBodyReads--);
    },
    inUse: () => ({ requests, lateBodyReads }),
  };
}
