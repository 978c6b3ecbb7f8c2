/**
 * The tools Genesys puts in every template's context, as its page "Velocity
 * macros for data actions" lists them
 * (https://help.mypurecloud.com/articles/velocity-macros-data-actions/):
 * `$esc` (Velocity's EscapeTool plus Genesys's JSON and URL methods),
 * `$encoding.base64`, `$math` (Velocity's MathTool), `$successTemplateUtils`
 * and `$urlTool`.
 *
 * The readable part of that page names each tool and describes `$esc.url`,
 * `$esc.urlFormEncode` and `$esc.uriEncode`; where it gives no example, the
 * behaviour follows the Velocity tool it names (EscapeTool, MathTool) or, for
 * Genesys's own tools, how public action definitions use them (see
 * docs/genesys.md, "What invoke models"). A tool given a value it cannot use
 * returns undefined, which Velocity prints as the reference, as Java's tools
 * return null.
 */

/** Base64 of the text's UTF-8 bytes, so any character survives (Genesys's, and Basic Auth's). */
export function base64OfUtf8(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(""));
}

/** `%XX` for an ASCII character encodeURIComponent leaves as it is. */
const percent = (char: string) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`;

/**
 * Java's `URLEncoder.encode(text, "UTF-8")`: form encoding, a space as "+",
 * `*` kept and `~` encoded. Not actions.ts formEncode(), which is Go's
 * url.QueryEscape (the other way round) to match Terraform's urlencode().
 */
function formEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()~]/g, percent).replaceAll("%20", "+");
}

/** Percent-encodes all but RFC 3986's unreserved characters; a space as "%20". */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, percent);
}

/** The characters inside a JSON string literal for `text`. */
function jsonString(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * A tool that takes text: any value as its text, as Java calls toString(),
 * and an unset one left unset, so Velocity prints the reference.
 */
const textTool = (transform: (text: string) => string) => (value: unknown) =>
  value === undefined ? undefined : transform(String(value));

/** A number from a Velocity argument (a number, or text that is one), or undefined. */
function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/** MathTool's operations: each takes numbers or numeric text, and gives undefined for others. */
function numeric(
  operation: (...numbers: number[]) => number,
): (...values: unknown[]) => number | undefined {
  return (...values) => {
    const numbers = values.map(toNumber);
    if (numbers.some((number) => number === undefined)) return undefined;
    const result = operation(...numbers as number[]);
    return Number.isFinite(result) ? result : undefined;
  };
}

/** Parses JSON text a translation map produced; undefined when it is not JSON. */
function parseJson(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The tools, fresh for each render so that no template can change another's. */
export function genesysTools(): Record<string, unknown> {
  return {
    esc: {
      jsonString: textTool(jsonString),
      // The newest copy of the page names it jsonEncode.
      jsonEncode: textTool(jsonString),
      /** The reverse: the text a JSON string literal's characters stand for. */
      jsonDecode: (text: unknown) => {
        if (typeof text !== "string") return undefined;
        const decoded = parseJson(`"${text}"`);
        return typeof decoded === "string" ? decoded : undefined;
      },
      url: textTool(formEncode),
      urlFormEncode: textTool(formEncode),
      uriEncode: textTool(uriEncode),
      // EscapeTool's characters, for templates that must print one literally.
      quote: '"',
      q: '"',
      singleQuote: "'",
      s: "'",
      dollar: "$",
      d: "$",
      hash: "#",
      h: "#",
      backslash: "\\",
      b: "\\",
      exclamation: "!",
      e: "!",
      newline: "\n",
      n: "\n",
    },
    encoding: {
      base64: textTool(base64OfUtf8),
    },
    math: {
      add: numeric((...numbers) => numbers.reduce((sum, number) => sum + number, 0)),
      sub: numeric((first, ...rest) => rest.reduce((result, number) => result - number, first!)),
      mul: numeric((...numbers) => numbers.reduce((product, number) => product * number, 1)),
      div: numeric((first, ...rest) => rest.reduce((result, number) => result / number, first!)),
      idiv: numeric((a, b) => Math.trunc(a! / b!)),
      mod: numeric((a, b) => a! % b!),
      pow: numeric((a, b) => a! ** b!),
      max: numeric((...numbers) => Math.max(...numbers)),
      min: numeric((...numbers) => Math.min(...numbers)),
      abs: numeric((a) => Math.abs(a!)),
      ceil: numeric((a) => Math.ceil(a!)),
      floor: numeric((a) => Math.floor(a!)),
      round: numeric((a) => Math.round(a!)),
      roundTo: numeric((decimals, a) => Number(a!.toFixed(decimals!))),
      toInteger: numeric((a) => Math.trunc(a!)),
      toNumber: numeric((a) => a!),
      toDouble: numeric((a) => a!),
    },
    successTemplateUtils: {
      /**
       * The first item of a JSON array (a translation map's value for a path
       * with a filter or a wildcard), as JSON; `fallback` (JSON text too) when
       * the array is empty or not an array, else nothing.
       */
      firstFromArray: (arrayJson: unknown, fallback: unknown = "") => {
        const array = parseJson(arrayJson);
        return Array.isArray(array) && array.length > 0 ? JSON.stringify(array[0]) : fallback;
      },
      /**
       * `{"k1": {...}, "k2": {...}}` as `[{"<keyName>": "k1", ...}, ...]`: an
       * object keyed by ids as the array of objects a contract can declare.
       */
      moveKeysIntoArrayOfObjects: (objectJson: unknown, keyName: unknown) => {
        const object = parseJson(objectJson);
        if (typeof object !== "object" || object === null || typeof keyName !== "string") {
          return undefined;
        }
        return JSON.stringify(
          Object.entries(object).map(([key, value]) => ({
            ...(typeof value === "object" && value !== null ? value : { value }),
            [keyName]: key,
          })),
        );
      },
    },
    urlTool: {
      /**
       * `&name=value`, form-encoded, or nothing when the value is unset or
       * empty, so an optional input adds its query parameter only when given;
       * `first` true leaves out the "&" for the first parameter after "?".
       */
      optionalQueryParam: (name: unknown, value: unknown, first: unknown = false) => {
        if (value === undefined || value === null || String(value) === "") return "";
        return `${first === true ? "" : "&"}${formEncode(String(name))}=${
          formEncode(String(value))
        }`;
      },
    },
  };
}
