/**
 * The entry for `deno serve serve.ts` and Deno Deploy: the same service as
 * main.ts, as a default export. (`deno compile` builds from main.ts: a
 * compiled default export does not serve.)
 *
 * On Deploy, configuration comes from the project's environment variables;
 * each isolate has its own weather cache, verification cache and throttles.
 */

import { startFromEnvironment } from "./src/startup.ts";

const { service } = await startFromEnvironment();

export default { fetch: service.handler } satisfies Deno.ServeDefaultExport;
