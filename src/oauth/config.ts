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
  OAUTH_CLIENT_SECRET_FILE: {
    meaning:
      "The client's secret from a file under `./secrets/`, `/run/secrets/` or `$CREDENTIALS_DIRECTORY`, instead of `OAUTH_CLIENT_SECRET`",
  },
  OAUTH_SIGNING_KEY: {
    meaning:
      "The token signing key: PKCS#8 PEM or private JWK. Unset (and no file): generated at start, with a warning",
    secret: true,
  },
  OAUTH_SIGNING_KEY_FILE: {
    meaning:
      "The same, from a file under `./secrets/`, `/run/secrets/` or `$CREDENTIALS_DIRECTORY`, read at start",
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
  /** PKCS#8 PEM or private JWK text, from OAUTH_SIGNING_KEY or the file OAUTH_SIGNING_KEY_FILE names. */
  readonly signingKey?: string;
  /** Which of the two it came from, for messages. */
  readonly signingKeySource?: "OAUTH_SIGNING_KEY" | "OAUTH_SIGNING_KEY_FILE";
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
    for (const name of ["OAUTH_CLIENT_SECRET", "OAUTH_CLIENT_SECRET_FILE"] as const) {
      if (vars.optionalText(name) !== undefined) {
        vars.problem(`${name} is set but OAUTH_CLIENT_ID is not`);
      }
    }
    return publicIssuer !== undefined ? { publicIssuer } : {};
  }
  const clientSecret = vars.secretOrFile("OAUTH_CLIENT_SECRET", "OAUTH_CLIENT_SECRET_FILE", {
    minLength: MIN_CLIENT_SECRET_LENGTH,
  });
  if (publicIssuer === undefined) {
    vars.problem(
      "PUBLIC_URL is required with OAUTH_CLIENT_ID: it is the issuer and audience of the tokens the service issues",
    );
  }
  const signingKey = vars.optionalSecretOrFile("OAUTH_SIGNING_KEY", "OAUTH_SIGNING_KEY_FILE");
  const signingKeySource = vars.optionalText("OAUTH_SIGNING_KEY") !== undefined
    ? "OAUTH_SIGNING_KEY"
    : "OAUTH_SIGNING_KEY_FILE";
  const builtIn: BuiltInOAuthConfig = {
    clientId,
    clientSecret,
    ...(signingKey !== undefined ? { signingKey, signingKeySource } : {}),
    tokenTtlS: vars.integer("OAUTH_TOKEN_TTL_S", { min: 60, max: 86_400 }),
    issuer: publicIssuer ?? "",
    scopes: vars.list("OAUTH_SCOPES"),
  };
  return { ...(publicIssuer !== undefined ? { publicIssuer } : {}), builtIn };
}
