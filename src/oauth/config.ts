/** The built-in OAuth server's settings: the one client it serves and how it signs tokens. */

import type { VariableReader, VariableSpecs } from "../process/variables.ts";

/** Client secrets are guessable below this length, whatever the throttle does. */
export const MIN_CLIENT_SECRET_LENGTH = 16;

export const OAUTH_VARIABLES = {
  PUBLIC_URL: {
    meaning:
      "The service's external URL, e.g. `https://weather.example.com`: `iss` and default `aud` of built-in tokens",
  },
  OAUTH_CLIENT_ID: {
    meaning: "`jwt`: turns on the built-in token endpoint `POST /oauth/token` for this client",
  },
  OAUTH_CLIENT_SECRET: {
    documentedDefault: "(required with `OAUTH_CLIENT_ID`)",
    meaning: "The client's secret, at least 16 characters",
    secret: true,
  },
  OAUTH_SIGNING_KEY: {
    meaning:
      "The token signing key: PKCS#8 PEM or private JWK. Unset (and no file): generated at start, with a warning",
    secret: true,
  },
  OAUTH_SIGNING_KEY_FILE: {
    meaning: "The same, from a file under `./secrets/` or `/run/secrets/`",
  },
  OAUTH_TOKEN_TTL_S: { default: "3600", meaning: "Lifetime of issued tokens, `60`–`86400` s" },
  OAUTH_SCOPES: {
    default: "weather.read",
    meaning:
      "Scopes the client may be granted, comma-separated; it gets all of them when it asks for none",
  },
} as const satisfies VariableSpecs;

type OAuthVariable = keyof typeof OAUTH_VARIABLES;

export interface BuiltInOAuthConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  /** PKCS#8 PEM or private JWK text, when given inline. */
  readonly signingKey?: string;
  readonly signingKeyFile?: string;
  readonly tokenTtlS: number;
  /** PUBLIC_URL without a trailing slash: the `iss` of every token it issues. */
  readonly issuer: string;
  /** Scopes a client may be granted; all of them when it asks for none. */
  readonly scopes: readonly string[];
}

export interface BuiltInIssuerSettings {
  /** PUBLIC_URL without a trailing slash, when set: also the default audience of every token. */
  readonly publicIssuer?: string;
  /** Set when OAUTH_CLIENT_ID turns the token endpoint on. */
  readonly builtIn?: BuiltInOAuthConfig;
}

/** Read only in `jwt` mode: in any other mode no token is issued or accepted. */
export function readBuiltInIssuerSettings(
  vars: VariableReader<OAuthVariable>,
): BuiltInIssuerSettings {
  const publicIssuer = vars.optionalHttpUrl("PUBLIC_URL")?.href.replace(/\/+$/, "");
  const clientId = vars.optionalText("OAUTH_CLIENT_ID");
  if (clientId === undefined) {
    if (vars.optionalText("OAUTH_CLIENT_SECRET") !== undefined) {
      vars.problem("OAUTH_CLIENT_SECRET is set but OAUTH_CLIENT_ID is not");
    }
    return publicIssuer !== undefined ? { publicIssuer } : {};
  }
  const clientSecret = vars.secret("OAUTH_CLIENT_SECRET", { minLength: MIN_CLIENT_SECRET_LENGTH });
  if (publicIssuer === undefined) {
    vars.problem(
      "PUBLIC_URL is required with OAUTH_CLIENT_ID: it is the issuer and audience of the tokens the service issues",
    );
  }
  const signingKey = vars.optionalText("OAUTH_SIGNING_KEY");
  const signingKeyFile = vars.optionalText("OAUTH_SIGNING_KEY_FILE");
  if (signingKey !== undefined && signingKeyFile !== undefined) {
    vars.problem("Set OAUTH_SIGNING_KEY or OAUTH_SIGNING_KEY_FILE, not both");
  }
  const builtIn: BuiltInOAuthConfig = {
    clientId,
    clientSecret,
    ...(signingKey !== undefined ? { signingKey } : {}),
    ...(signingKeyFile !== undefined ? { signingKeyFile } : {}),
    tokenTtlS: vars.integer("OAUTH_TOKEN_TTL_S", { min: 60, max: 86_400 }),
    issuer: publicIssuer ?? "",
    scopes: vars.list("OAUTH_SCOPES"),
  };
  return { ...(publicIssuer !== undefined ? { publicIssuer } : {}), builtIn };
}
