/**
 * `popek run-elf`: run a bare-metal RV64 ELF (riscv-tests, benchmarks) on the bare machine, console on stdout, and
 * exit with the code the guest passes to HTIF. Host problems become a CliError; the guest's faults are its own.
 */
import { checkImageInRam, LoadError, parseElf } from "../core/firmware/elf.ts";
import { FileError, readInputFile } from "../host/node/files.ts";
import type { CliIo } from "./io.ts";
import { CliError } from "./options.ts";

/** Physical base of RAM on the bare machine (spike and QEMU virt agree). */
export const RAM_BASE = 0x8000_0000;
/** Exit code when popek stops a guest that has not exited (`--max-insns`, or a hopeless `wfi`), as timeout(1). */
export const EXIT_LIMIT = 124;

export interface RunElfOptions {
  readonly mem: number;
  readonly maxInsns?: number;
  readonly stats?: boolean;
}

/** Load and run `path`; returns the process exit code. */
export async function runElf(path: string, opts: RunElfOptions, io: CliIo): Promise<number> {
  const elf = await hostStep(path, async () => {
    const image = parseElf(await readInputFile(path));
    checkImageInRam(image, BigInt(RAM_BASE), BigInt(opts.mem));
    return image;
  });
  // Loaded on demand, so that `--help` and bad input stay quick and each subcommand pulls in only its own machine.
  const { BareMachine } = await import("../core/machine/bare.ts");
  let machine: InstanceType<typeof BareMachine>;
  try {
    machine = new BareMachine({
      ramBase: RAM_BASE,
      ramSize: opts.mem,
      // The machine may reuse its buffer, and a pipe write can outlive this call: copy.
      onOutput: (bytes) => io.stdout(bytes.slice()),
    });
  } catch (e) {
    // The host refusing the guest's memory is a resource problem the user can fix with a smaller --mem.
    if (e instanceof RangeError)
      throw new CliError(`cannot allocate ${opts.mem / 2 ** 20} MiB of guest RAM (${e.message})`);
    throw e;
  }
  await hostStep(path, async () => machine.load(elf));

  const start = performance.now();
  const exit = machine.run(opts.maxInsns);
  const seconds = (performance.now() - start) / 1000;
  if (opts.stats) {
    const insns = Number(machine.instret);
    const mips = seconds > 0 ? (insns / seconds / 1e6).toFixed(2) : "-";
    io.stderr(`popek: ${insns} instructions retired in ${seconds.toFixed(3)} s (${mips} MIPS)\n`);
  }
  if (exit.kind === "limit") {
    io.stderr(`popek: stopped after ${machine.instret} instructions (--max-insns ${opts.maxInsns})\n`);
    return EXIT_LIMIT;
  }
  if (exit.kind === "wfi") {
    io.stderr(`popek: stopped after ${machine.instret} instructions: wfi with no interrupt that could wake the hart\n`);
    return EXIT_LIMIT;
  }
  if (exit.code < 0 || exit.code > 255) {
    // Exit statuses are 8 bits; passing on `code & 0xff` could turn a failure (256) into success.
    io.stderr(`popek: guest exit code ${exit.code} does not fit in 8 bits; exiting with 255\n`);
    return 255;
  }
  return exit.code;
}

/** Run `step`, turning the file and load errors the user can fix into a CliError naming `path`. */
async function hostStep<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof FileError || e instanceof LoadError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
}
