/**
 * Where the `popek` command writes: guest output and help go to `stdout`, diagnostics to `stderr`. Tests pass their
 * own to capture both; `nodeIo` is the process's streams.
 */

export interface CliIo {
  /** Guest console bytes and help/version text. */
  stdout(chunk: Uint8Array | string): void;
  /** Diagnostics, one `popek: …` line each. */
  stderr(text: string): void;
}

/** The process's stdout and stderr. A reader closing the pipe early (`popek … | head`) is not an error. */
export function nodeIo(): CliIo {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });
  return {
    stdout: (chunk) => process.stdout.write(chunk),
    stderr: (text) => process.stderr.write(text),
  };
}
