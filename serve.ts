/**
 * The entry for `deno serve serve.ts` and Deno Deploy: the same service as
 * main.ts, as a default export. (`deno compile` builds from main.ts: a
 * compiled default export does not serve.)
 *
 * On Deploy, configuration comes from the project's environment variables;
 * each isolate has its own verification cache and throttles, and shares the
 * weather cache and the OpenWeatherMap budget through Deploy's KV when
 * SHARED_STORE_URL is `kv:`.
 */

import { startFromEnvironment } from "./src/startup.ts";

const { service } = await startFromEnvironment();

export default { fetch: service.handler } satisfies Deno.ServeDefaultExport;
