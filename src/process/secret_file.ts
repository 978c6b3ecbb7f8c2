/**
 * Reads a secret from a file (`OPENWEATHER_API_KEY_FILE` and the other
 * `*_FILE` variables), only from the directories meant for secrets:
 *
 *   ./secrets/               beside the service, for a developer or a VM
 *   /run/secrets/            Docker and Compose secrets
 *   $CREDENTIALS_DIRECTORY   systemd credentials (`LoadCredential=`), under /run/credentials/
 *
 * The rule holds in code, whatever the permissions: on Deno Deploy or under
 * `-A` nothing else stops a variable from naming `/etc/shadow` or `.env`.
 * Nothing is read from under /proc, even when CREDENTIALS_DIRECTORY leads
 * there (the configuration refuses such a value outright).
 * The real path is checked (symlinks and `..` resolved), so a link inside an
 * allowed directory cannot point out of it. Messages name the path, never
 * the content.
 */

export const SECRET_DIRECTORIES_TEXT = "./secrets/, /run/secrets/ or $CREDENTIALS_DIRECTORY";

/** A secret file that cannot be used; the message completes `NAME_FILE "path" ...`. */
export class SecretFileError extends Error {
  override name = "SecretFileError";
}

/** The directories secret files may be read from, as given (not yet resolved). */
export function secretDirectories(credentialsDirectory: string | undefined): string[] {
  return ["secrets", "/run/secrets", ...(credentialsDirectory ? [credentialsDirectory] : [])];
}

/** Real paths of the allowed directories that exist, none under /proc. */
function resolvedDirectories(directories: readonly string[]): string[] {
  return directories.flatMap((directory) => {
    try {
      const resolved = Deno.realPathSync(directory);
      return isUnderProc(resolved) ? [] : [resolved];
    } catch {
      return []; // Absent, or not readable: nothing can be read from it either.
    }
  });
}

const SEPARATOR = Deno.build.os === "windows" ? "\\" : "/";

function isInside(path: string, directory: string): boolean {
  const prefix = directory.endsWith(SEPARATOR) ? directory : `${directory}${SEPARATOR}`;
  return path.startsWith(prefix);
}

/**
 * No secret is read from under /proc, whatever CREDENTIALS_DIRECTORY says:
 * there every process's environment, memory and open files are files
 * (`/proc/self/environ` holds every variable, `/dev/fd` leads there too).
 */
const PROC = "/proc";

/** True when `directory`, as written or once resolved (symlinks, `..`), is /proc or under it. */
export function isUnderProc(directory: string): boolean {
  const under = (path: string) => path === PROC || isInside(path, PROC);
  if (under(directory)) return true;
  try {
    return under(Deno.realPathSync(directory));
  } catch {
    return false; // Absent, or not readable: nothing can be read from it either.
  }
}

/** The file's text, trimmed; throws SecretFileError when outside the allowed directories or unreadable. */
export function readSecretFileSync(path: string, directories: readonly string[]): string {
  let realPath: string;
  try {
    realPath = Deno.realPathSync(path);
  } catch (error) {
    throw new SecretFileError(
      `cannot be read (${
        (error as Error).name
      }); secret files may be read only under ${SECRET_DIRECTORIES_TEXT}`,
    );
  }
  if (!resolvedDirectories(directories).some((directory) => isInside(realPath, directory))) {
    throw new SecretFileError(
      `is outside the directories secret files may be read from (${SECRET_DIRECTORIES_TEXT})`,
    );
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(realPath);
  } catch (error) {
    throw new SecretFileError(`cannot be read (${(error as Error).name})`);
  }
  const value = text.trim();
  if (value === "") throw new SecretFileError("is empty");
  return value;
}
