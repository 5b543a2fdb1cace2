/**
 * `popek run`: boot Linux (or any S-mode kernel) on the virt machine with its console on the terminal. In a real
 * terminal the console is raw and Ctrl-A is an escape key as in QEMU's `-nographic` (Ctrl-A x quits, Ctrl-A h lists
 * the keys); with pipes, bytes pass through unchanged. The terminal is restored however the run ends.
 */
import { VirtioConsole } from "../core/devices/virtio/console.ts";
import { virtioMmio } from "../core/devices/virtio/mmio.ts";
import { VirtioRng } from "../core/devices/virtio/rng.ts";
import { LoadError } from "../core/firmware/elf.ts";
import type { VirtExit, VirtioFactory } from "../core/machine/virt.ts";
import { FileError, readInputFile } from "../host/node/files.ts";
import { type DriveSpec, openDrives } from "./drive-options.ts";
import { bootImage } from "./image.ts";
import type { CliIo } from "./io.ts";
import { type NetSpec, openNetDevices, parseNetOptions } from "./net-options.ts";
import { CliError } from "./options.ts";
import { type OpenShares, openShares, type ShareSpec } from "./share-options.ts";

/** The escape key (Ctrl-A), as QEMU's default. */
const ESCAPE = 0x01;
export interface RunOptions {
  /** Registered image set to boot when no --kernel is given (default: the built default set). */
  readonly image?: string;
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
  readonly mem: number;
  readonly smp: number;
  readonly bios?: string;
  /** Exit instead of restarting when the guest reboots (QEMU's -no-reboot). */
  readonly noReboot?: boolean;
  /** Print instructions, time and MIPS to stderr at the end. */
  readonly stats?: boolean;
  /** Network cards (--net); absent: one card on user-mode networking, as QEMU. */
  readonly net?: readonly NetSpec[];
  /** Disks (--drive), in order: the first takes the highest virtio slot and is the guest's /dev/vda, as in QEMU. */
  readonly drives?: readonly DriveSpec[];
  /** A virtio console on the terminal (--virtio-console): terminal input goes to it instead of the UART. */
  readonly virtioConsole?: boolean;
  /** The virtio-rng entropy device (default on; --no-rng). */
  readonly rng?: boolean;
  /** Host folders shared over virtio-9p (--share), after the network cards in slot order. */
  readonly shares?: readonly ShareSpec[];
}

/** The console's input side: the process's stdin unless a test passes its own. */
export interface ConsoleInput {
  /** Whether input comes from a terminal (raw mode and Ctrl-A escapes). */
  readonly isTTY: boolean;
  setRawMode?(raw: boolean): void;
  on(event: "data", fn: (chunk: Uint8Array) => void): void;
  off(event: "data", fn: (chunk: Uint8Array) => void): void;
  resume(): void;
  pause(): void;
}

const HELP = ["C-a h    print this help", "C-a x    exit popek", "C-a a    send C-a to the guest (C-a C-a too)", ""];

/** Boot the guest and run it until it powers off or the user quits; returns the process exit code. */
export async function runVirt(opts: RunOptions, io: CliIo, stdin: ConsoleInput = process.stdin): Promise<number> {
  let append = opts.append;
  let kernel: Uint8Array;
  let initrd: Uint8Array | undefined;
  if (opts.kernel === undefined) {
    if (opts.initrd !== undefined) throw new CliError("--initrd needs --kernel");
    // An image set from the cache (the default one is built first if missing), checked against its manifest.
    const image = await bootImage(opts.image, io);
    kernel = image.kernel;
    initrd = image.initrd;
    append ??= image.append;
  } else {
    if (opts.image !== undefined) throw new CliError("--image and --kernel exclude each other");
    kernel = await readFile(opts.kernel);
    initrd = opts.initrd === undefined ? undefined : await readFile(opts.initrd);
  }
  const bios = opts.bios === undefined ? undefined : await readFile(opts.bios);

  const warn = (m: string) => io.stderr(`popek: ${m}\n`);
  // Devices in the order QEMU users give -device: disks (the first is /dev/vda), network cards, shared folders,
  // console, entropy.
  const drives = await openDrives(opts.drives ?? [], warn);
  try {
    const nets = await openNetDevices(opts.net ?? parseNetOptions([]), warn);
    let shares: OpenShares | undefined;
    try {
      const con = opts.virtioConsole ? new VirtioConsole((bytes) => io.stdout(bytes), { size: terminalSize() }) : null;
      shares = await openShares(opts.shares ?? [], warn);
      const devices = [...drives.factories, ...nets.factories, ...shares.factories];
      if (con !== null) devices.push(virtioMmio(con, { onError: warn }));
      if (opts.rng !== false) devices.push(virtioMmio(new VirtioRng(), { onError: warn }));
      const virtio = virtioSlots(devices);
      return await runMachine(opts, io, stdin, { kernel, initrd, bios, append, virtio, console: con });
    } finally {
      nets.close();
      await shares?.close();
    }
  } finally {
    // Requests in flight finish, written data is fsynced and the images' locks dropped before popek exits.
    await drives.close();
  }
}

/** The terminal's size for the virtio console, if stdout is a terminal. */
function terminalSize(): { cols: number; rows: number } | undefined {
  const out = process.stdout;
  return out.isTTY ? { cols: out.columns, rows: out.rows } : undefined;
}

/** virtio-mmio slots for `devices`, taken from the highest address down as QEMU's virt board assigns them. */
function virtioSlots(devices: readonly VirtioFactory[]): (VirtioFactory | undefined)[] {
  if (devices.length > 8) throw new CliError(`${devices.length} virtio devices: the virt board has 8 slots`);
  const slots = new Array<VirtioFactory | undefined>(8).fill(undefined);
  devices.forEach((d, i) => {
    slots[7 - i] = d;
  });
  return slots;
}

async function runMachine(
  opts: RunOptions,
  io: CliIo,
  stdin: ConsoleInput,
  boot: {
    kernel: Uint8Array;
    initrd: Uint8Array | undefined;
    bios: Uint8Array | undefined;
    append: string | undefined;
    virtio: (VirtioFactory | undefined)[];
    /** The virtio console that takes terminal input, if any (else the UART does). */
    console: VirtioConsole | null;
  },
): Promise<number> {
  const { kernel, initrd, bios, append, virtio, console: con } = boot;
  const { VirtMachine, BootError } = await import("../core/machine/virt.ts");
  let machine: InstanceType<typeof VirtMachine>;
  try {
    machine = new VirtMachine(
      { ramSize: opts.mem, harts: opts.smp, kernel, initrd, bios, bootargs: append, virtio },
      // The console may hand its array on to a pipe write that outlives the call; the machine never reuses it.
      { onOutput: (bytes) => io.stdout(bytes) },
    );
  } catch (e) {
    if (e instanceof BootError || e instanceof LoadError) throw new CliError(e.message);
    if (e instanceof RangeError)
      throw new CliError(`cannot allocate ${opts.mem / 2 ** 20} MiB of guest RAM (${e.message})`);
    throw e;
  }

  const send = (bytes: Uint8Array) => (con !== null ? con.receive(bytes) : machine.sendInput(bytes));
  const onResize = () => con?.resize(process.stdout.columns, process.stdout.rows);
  const tty = stdin.isTTY && typeof stdin.setRawMode === "function";
  let quit = false;
  let escaped = false;
  const eol = tty ? "\r\n" : "\n";
  const onData = (chunk: Uint8Array) => {
    if (!tty) {
      send(chunk);
      return;
    }
    const out: number[] = [];
    for (const b of chunk) {
      if (escaped) {
        escaped = false;
        if (b === 0x78 /* x */) {
          quit = true;
          io.stderr(`${eol}popek: terminated${eol}`);
          machine.stop();
          break;
        }
        if (b === 0x68 /* h */ || b === 0x3f /* ? */) io.stderr(HELP.join(eol));
        else if (b === 0x61 /* a */ || b === ESCAPE) out.push(ESCAPE);
        // Other keys after C-a are dropped, as in QEMU.
      } else if (b === ESCAPE) {
        escaped = true;
      } else {
        out.push(b);
      }
    }
    if (out.length > 0) send(Uint8Array.from(out));
  };

  const signals: [NodeJS.Signals, number][] = [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ];
  let signalled = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signalled = signals.find(([s]) => s === sig)?.[1] ?? 1;
    machine.stop();
  };
  const restore = () => {
    if (tty) stdin.setRawMode!(false);
  };
  for (const [s] of signals) process.on(s, onSignal);
  process.on("exit", restore);
  if (tty) stdin.setRawMode!(true);
  stdin.on("data", onData);
  stdin.resume();
  if (con !== null && process.stdout.isTTY) process.stdout.on("resize", onResize);

  const start = performance.now();
  let exit: VirtExit;
  try {
    for (;;) {
      exit = await machine.run();
      if (exit.kind !== "reboot") break;
      if (opts.noReboot) {
        io.stderr(`${eol}popek: the guest rebooted (--no-reboot: exiting)${eol}`);
        break;
      }
      io.stderr(`${eol}popek: the guest rebooted; restarting it${eol}`);
      machine.reset();
    }
  } finally {
    stdin.off("data", onData);
    stdin.pause();
    process.stdout.off("resize", onResize);
    restore();
    process.off("exit", restore);
    for (const [s] of signals) process.off(s, onSignal);
  }

  if (opts.stats) {
    const seconds = (performance.now() - start) / 1000;
    const insns = Number(machine.instret);
    io.stderr(`popek: ${insns} instructions in ${seconds.toFixed(3)} s (${(insns / seconds / 1e6).toFixed(1)} MIPS)\n`);
  }
  if (signalled !== 0) return signalled;
  if (quit || exit.kind !== "poweroff") return 0;
  if (exit.code > 255) {
    io.stderr(`popek: guest exit code ${exit.code} does not fit in 8 bits; exiting with 255\n`);
    return 255;
  }
  return exit.code;
}

async function readFile(path: string): Promise<Uint8Array> {
  try {
    return await readInputFile(path);
  } catch (e) {
    if (e instanceof FileError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
}
