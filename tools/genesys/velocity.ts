/**
 * Genesys's template language: Velocity (rendered by velocityjs), with the
 * tools Genesys documents on "Velocity macros for data actions"
 * (https://help.mypurecloud.com/articles/velocity-macros-data-actions/) in the
 * context of every template. Genesys renders the request URL, the headers, the
 * request body and the success template this way.
 *
 * Velocity's own rules come with the engine: `$input.x` is `${input.x}`, an
 * unset `${x}` is printed as written, `$!{x}` prints nothing, and `#if`,
 * `#set` and `#foreach` work as in Java Velocity.
 */

import velocity from "velocityjs";
import { genesysTools } from "./velocity_tools.ts";

/** A template Velocity cannot parse, or a tool that refused its argument. */
export class TemplateError extends Error {
  override name = "TemplateError";
}

/**
 * Renders `template` with `variables` and Genesys's tools (`$esc`,
 * `$encoding`, `$math`, `$successTemplateUtils`, `$urlTool`). A variable
 * named like a tool hides the tool, as in Genesys, where the tools are
 * context entries too.
 */
export function renderVelocity(template: string, variables: Record<string, unknown>): string {
  let syntax;
  try {
    syntax = velocity.parse(template);
  } catch (error) {
    throw new TemplateError(`The template cannot be parsed: ${firstLine(error)}`);
  }
  // Java Velocity prints an unset reference as written; a JSON null is unset there too.
  const context = { ...genesysTools(), ...withoutNulls(variables) };
  try {
    // velocityjs reads the context through its getters; macros are not given.
    return new velocity.Compile(syntax).render(context);
  } catch (error) {
    throw new TemplateError(`The template failed: ${firstLine(error)}`);
  }
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split("\n")[0]!;
}

/** The variables with every null (at any depth) removed, as Velocity sees a Java null. */
function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
  const strip = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(strip);
    if (typeof item !== "object" || item === null) return item;
    return Object.fromEntries(
      Object.entries(item).filter(([, entry]) => entry !== null).map((
        [key, entry],
      ) => [key, strip(entry)]),
    );
  };
  return strip(value) as Record<string, unknown>;
}
