/**
 * A Markdown file as GitHub renders it, as far as the docs tests need: the
 * anchors its headings get, and the links it makes. Fenced code blocks are
 * neither headings nor links, and inline code is not a link.
 */

/** The text with every fenced code block blanked line for line, so line numbers still hold. */
function withoutCodeBlocks(markdown: string): string {
  let fence: string | undefined;
  return markdown.split("\n").map((line) => {
    const opening = line.match(/^\s*(`{3,}|~{3,})/)?.[1];
    if (fence === undefined) {
      if (opening === undefined) return line;
      fence = opening;
      return "";
    }
    if (opening !== undefined && opening[0] === fence[0] && opening.length >= fence.length) {
      fence = undefined;
    }
    return "";
  }).join("\n");
}

/**
 * GitHub's anchor for a heading (github-slugger on the rendered text): markup
 * dropped, lower case, every character that is not a letter, digit, mark,
 * `_`, `-` or space removed, spaces as hyphens.
 */
export function slug(heading: string): string {
  const text = heading
    .replace(/\s+#+\s*$/, "") // an ATX heading's closing hashes
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
    .replace(/<[^>]+>/g, "") // HTML tags
    .replace(/[`*]/g, ""); // code spans and emphasis
  return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "").replace(/ /g, "-");
}

/** Every anchor the file's headings get; a repeated heading gets `-1`, `-2`, ... as on GitHub. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of withoutCodeBlocks(markdown).matchAll(/^ {0,3}#{1,6}\s+(.+)$/gm)) {
    const base = slug(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

export interface MarkdownLink {
  /** 1-based line of the link's start. */
  readonly line: number;
  /** The destination as written: a URL, a relative path, `path#anchor` or `#anchor`. */
  readonly target: string;
}

/** Every inline link and image in the file, outside code (link text may span lines). */
export function markdownLinks(markdown: string): MarkdownLink[] {
  // Code spans become spaces of the same length, so positions (and line numbers) hold.
  const prose = withoutCodeBlocks(markdown).replace(
    /`[^`]*`/g,
    (code) => code.replace(/[^\n]/g, " "),
  );
  return [...prose.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => ({
    line: prose.slice(0, match.index).split("\n").length,
    target: match[1]!,
  }));
}
