/** A temporary directory that removes itself at the end of its scope: `using dir = tempDir()`. */
export interface TempDir extends Disposable {
  readonly path: string;
}

export function tempDir(prefix = "genesys-weather-test-"): TempDir {
  const path = Deno.makeTempDirSync({ prefix });
  return {
    path,
    [Symbol.dispose]() {
      Deno.removeSync(path, { recursive: true });
    },
  };
}
