/**
 * The `popek` command: parses argv with commander and dispatches to a subcommand. Host problems (bad options,
 * unreadable or unloadable files) print one `popek: …` line and exit 2; unexpected errors print one line and exit 70.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { parseDriveOptions } from "./drive-options.ts";
import { runExec } from "./exec.ts";
import { imageAdd, imageBuild, imageList } from "./image.ts";
import { type CliIo, nodeIo } from "./io.ts";
import { parseNetOptions } from "./net-options.ts";
import { CliError, MAX_MEM, parseCount, parseSize } from "./options.ts";
import { runVirt } from "./run.ts";
import { EXIT_LIMIT, RAM_BASE, runElf } from "./run-elf.ts";
import { parseShareOptions } from "./share-options.ts";

/** Exit codes: 2 for a usage or input problem (as most Unix tools use it), 70 for an internal error (EX_SOFTWARE). */
export const EXIT_HOST_ERROR = 2;
export const EXIT_INTERNAL = 70;

const DEFAULT_MEM = "128M";
/** Guest RAM of `popek run` (the shared guest images are tested with 256 MiB). */
const DEFAULT_VIRT_MEM = "256M";

/** Run the `popek` command on `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: CliIo = nodeIo()): Promise<number> {
  let exitCode = 0;
  const program = new Command("popek")
    .description("popek, a RISC-V (RV64GC) virtual machine")
    .version(packageVersion(), "-V, --version", "print the version and exit")
    .helpOption("-h, --help", "show help for popek or a command")
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      // Commander's own errors (unknown option, missing argument) in popek's one-line form.
      outputError: (text) => io.stderr(`popek: ${oneLine(text.replace(/^error: /, ""))}\n`),
    });

  program
    .command("run-elf")
    .summary("run a bare-metal RV64 ELF program (riscv-tests, benchmarks)")
    .description(
      "Run a bare-metal RV64 ELF program in M-mode on one hart, with its console on stdout, and exit with the code " +
        "it passes to HTIF. Segments are loaded at their physical addresses, which must lie in RAM.",
    )
    .argument("<prog.elf>", "statically linked RV64 ELF executable")
    .option("--mem <size>", `guest RAM size, K/M/G suffixes (at most ${MAX_MEM / 2 ** 30}G)`, DEFAULT_MEM)
    .option("--max-insns <n>", `stop after n instructions with exit code ${EXIT_LIMIT}`)
    .option("--stats", "print instructions retired, wall time and MIPS to stderr")
    .addHelpText(
      "after",
      `
Machine:
  RAM at 0x${RAM_BASE.toString(16)}, an NS16550A UART at 0x10000000, and HTIF through the
  program's \`tohost\` and \`fromhost\` symbols (64-bit, 8-byte aligned):
  tohost = (1<<56)|(1<<48)|c prints byte c; tohost = (code<<1)|1 exits.

Exit status:
  0-255  the guest's exit code
  2      popek could not start the guest (bad option, unreadable file,
         not a loadable RV64 ELF)
  70     internal error in popek
  ${EXIT_LIMIT}    the guest did not exit: --max-insns reached, or it waits (wfi)
         for an interrupt that cannot come

Examples:
  popek run-elf hello.elf
  popek run-elf --mem 1G --max-insns 1_000_000_000 --stats bench.elf`,
    )
    .action(async (file: string, opts: { mem: string; maxInsns?: string; stats?: boolean }) => {
      exitCode = await runElf(
        file,
        {
          mem: parseSize(opts.mem, "--mem"),
          maxInsns: opts.maxInsns === undefined ? undefined : parseCount(opts.maxInsns, "--max-insns"),
          stats: opts.stats === true,
        },
        io,
      );
    });

  program
    .command("run")
    .summary("boot Linux on the virt machine, console on this terminal")
    .description(
      "Boot a kernel on the virt machine (QEMU's -M virt board) with the built-in SBI firmware, or with an M-mode " +
        "firmware such as OpenSBI given by --bios. The console (UART, and the SBI console) is this terminal. " +
        "Without --kernel, boots the default guest image (building it first if it is not built yet) or the one " +
        "--image names.",
    )
    .option("--image <name>", "boot a registered image set (popek image list) instead of the default one")
    .option("--kernel <file>", "Linux Image (or an ELF or raw S-mode binary)")
    .option("--initrd <file>", "initial RAM disk, placed as QEMU places it")
    .option("--append <cmdline>", "kernel command line (/chosen/bootargs)")
    .option("--mem <size>", `guest RAM size, K/M/G suffixes (at most ${MAX_MEM / 2 ** 30}G)`, DEFAULT_VIRT_MEM)
    .option("--smp <n>", "number of harts", "1")
    .option("--bios <file>", "M-mode firmware (OpenSBI fw_jump/fw_dynamic) instead of the built-in SBI")
    .option("--no-reboot", "exit when the guest reboots instead of restarting it")
    .option("--stats", "print instructions retired, wall time and MIPS to stderr at the end")
    .option(
      "--net <spec>",
      "a network card: user[,hostfwd=tcp:HOSTADDR:PORT-:GUESTPORT…][,restrict=on] (the default), " +
        "socket,listen=HOST:PORT or socket,connect=HOST:PORT (a cable to another VM), or none; repeat for more cards",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--drive <spec>",
      "a disk: file=PATH[,readonly=on][,snapshot=on][,format=raw][,serial=S]; the first is /dev/vda; " +
        "repeat for more disks",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      "--share <spec>",
      "a host folder for the guest: HOSTDIR[,tag=T][,readonly=on] (virtio-9p; mount it in the guest with " +
        "mount -t 9p -o trans=virtio,version=9p2000.L T /mnt); repeat for more folders",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--virtio-console", "add a virtio console on this terminal (the guest's hvc); terminal input goes to it")
    .option("--no-rng", "leave out the virtio-rng entropy device (on by default)")
    .addHelpText(
      "after",
      `
Network (--net, QEMU's -netdev user and -netdev socket):
  user     user-mode networking, on by default: the guest gets 10.0.2.15 by DHCP,
           10.0.2.2 is the gateway and stands for this host's 127.0.0.1, 10.0.2.3
           resolves names through this host's resolver; no root needed.
           hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT forwards a
           host port to the guest (HOSTADDR empty: every address); restrict=on
           cuts the guest off from everything but DHCP, DNS and forwarded ports.
  socket   listen=HOST:PORT or connect=HOST:PORT: an Ethernet cable to another
           popek (or QEMU -netdev socket) VM; give each VM its own mac=.
  none     no network card.

Disks (--drive, QEMU's -drive with if=virtio):
  file=PATH    a raw image (format=raw), one virtio-blk disk; the first --drive
               is /dev/vda, the next /dev/vdb, ... (boot it with
               --append 'root=/dev/vda rw console=ttyS0'). The image is locked
               against a second VM opening it read-write (PATH.popek-lock).
  readonly=on  the guest sees a read-only disk; writes fail.
  snapshot=on  writes go to memory and are lost at exit; the image never changes.
  serial=S     the disk's ID string (/sys/block/vda/serial), at most 20 chars.
  A guest FLUSH (sync) is an fsync of the image.

Shared folders (--share, QEMU's -virtfs with security_model=none):
  HOSTDIR      a host folder the guest mounts over 9P2000.L with
               mount -t 9p -o trans=virtio,version=9p2000.L TAG /mnt
               The guest never reaches outside HOSTDIR: '..' stops at it, and
               symlinks are resolved by the guest in its own tree, never on
               the host.
  tag=T        the name to mount (default host, then host1, host2, ...).
  readonly=on  every write fails with EROFS.
  Files are created as this host user; the guest's chown is ignored, setuid
  and setgid bits on files are dropped, device nodes cannot be created.

Console:
  In a terminal the console is raw (Ctrl-C goes to the guest). Ctrl-A is the
  escape key: Ctrl-A x quits, Ctrl-A h lists the keys, Ctrl-A a sends Ctrl-A.
  With stdin not a terminal (a pipe, a file) bytes pass through unchanged.
  The UART (ttyS0) and the SBI console (hvc0 in the default kernel) print here.
  --virtio-console adds a virtio console (hvc1 in the default kernel, whose
  hvc0 is the SBI console; hvc0 in kernels without HVC_RISCV_SBI); its output
  prints here too, and terminal input goes to it instead of the UART: use
  --append 'console=hvc1'.

Entropy:
  A virtio-rng device (/dev/hwrng, fed from this host's cryptographic RNG) is
  on by default, unlike QEMU, so guests have entropy from the start; --no-rng
  leaves it out. Virtio slots (8) go to disks, network cards, shared folders,
  the console and the rng in that order, from the highest address down as in
  QEMU.

Default guest:
  Without --kernel: the default image set (Linux 6.1 + BusyBox initramfs, built
  from Debian's sources by \`popek image build\`, which runs first if needed),
  or the set --image names; --append defaults to the set's command line
  (console=ttyS0). Each file is checked against the set's manifest first.

Exit status:
  0      the guest powered off (or Ctrl-A x)
  1-255  the guest powered off reporting failure (syscon code, SBI reset reason)
  2      popek could not start the guest (bad option, unreadable file, image
         does not fit)
  70     internal error in popek
  129/130/143  stopped by SIGHUP/SIGINT/SIGTERM

Examples:
  popek run
  popek run --kernel Image --initrd initramfs.cpio.gz --append 'console=ttyS0' --smp 2
  popek run --bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin --kernel Image
  popek run --net user,hostfwd=tcp:127.0.0.1:8022-:22
  popek run --kernel Image --append 'root=/dev/vda rw console=ttyS0' --drive file=rootfs.ext4
  popek run --kernel Image --drive file=rootfs.ext4,snapshot=on --append 'root=/dev/vda rw console=ttyS0'
  popek run --share ~/src,tag=src --share /srv/data,tag=data,readonly=on`,
    )
    .action(
      async (opts: {
        image?: string;
        kernel?: string;
        initrd?: string;
        append?: string;
        mem: string;
        smp: string;
        bios?: string;
        reboot: boolean;
        stats?: boolean;
        net: string[];
        drive: string[];
        share: string[];
        virtioConsole?: boolean;
        rng: boolean;
      }) => {
        const smp = parseCount(opts.smp, "--smp");
        if (smp > 64) throw new CliError(`--smp ${opts.smp}: at most 64 harts are supported`);
        const net = parseNetOptions(opts.net);
        const drives = parseDriveOptions(opts.drive);
        const shares = parseShareOptions(opts.share);
        exitCode = await runVirt(
          {
            image: opts.image,
            kernel: opts.kernel,
            initrd: opts.initrd,
            append: opts.append,
            mem: parseSize(opts.mem, "--mem"),
            smp,
            bios: opts.bios,
            noReboot: !opts.reboot,
            stats: opts.stats === true,
            net,
            drives,
            shares,
            virtioConsole: opts.virtioConsole === true,
            rng: opts.rng,
          },
          io,
        );
      },
    );
  program
    .command("exec")
    .summary("run a RISC-V Linux program in the process VM (as qemu-riscv64 does)")
    .description(
      "Run a RISC-V 64-bit Linux program (static, or dynamic with --sysroot) in popek's process VM, translating its " +
        "system calls: stdio is this terminal, files are the host's under --root.",
    )
    .argument("<prog>", "RISC-V Linux ELF executable")
    .argument("[args...]", "its arguments")
    .option("--root <dir>", "folder the program sees as /", "/")
    .option("--sysroot <dir>", "searched first for absolute paths (qemu-user's -L), e.g. /usr/riscv64-linux-gnu")
    .option("--strace", "print every system call to stderr, and the unimplemented ones at the end")
    .option("--mem <size>", `guest memory limit, K/M/G suffixes (at most ${MAX_MEM / 2 ** 30}G)`, "1G")
    .option("--max-insns <n>", `stop after n instructions with exit code ${EXIT_LIMIT}`)
    .passThroughOptions()
    .action(
      async (
        prog: string,
        args: string[],
        opts: { root: string; sysroot?: string; strace?: boolean; mem: string; maxInsns?: string },
      ) => {
        exitCode = await runExec(
          prog,
          args,
          {
            root: opts.root,
            sysroot: opts.sysroot,
            strace: opts.strace === true,
            mem: parseSize(opts.mem, "--mem"),
            maxInsns: opts.maxInsns === undefined ? undefined : parseCount(opts.maxInsns, "--max-insns"),
          },
          io,
        );
      },
    );

  const image = program
    .command("image")
    .summary("build, list and register guest image sets (kernel, initrd, disk)")
    .description(
      "Guest image sets live in the cache ($XDG_CACHE_HOME/popek/images, default ~/.cache/popek/images), each with " +
        "a manifest (size and sha256 of every file); a set that does not match its manifest is never booted.",
    );
  image
    .command("build")
    .summary("build the default image set from Debian's sources (tools/image)")
    .description(
      "Build the default image set (Linux 6.1 Image, BusyBox initramfs.cpio.gz, ext4 rootfs.ext4) from Debian " +
        "packages with the recipe in tools/image, unless the cache already holds an intact set for this recipe. " +
        "Installs missing build dependencies with apt when run as root, else prints the command to run.",
    )
    .option("--out <dir>", "also copy the set (with its manifest) to this directory")
    .option("-j, --jobs <n>", "parallel compile jobs (default: the number of CPUs)")
    .option("--rebuild", "build even if an intact set is cached (e.g. after Debian updated a package)")
    .option("--clean", "with a build, start from an empty work directory (sources are kept)")
    .action(async (opts: { out?: string; jobs?: string; rebuild?: boolean; clean?: boolean }) => {
      exitCode = await imageBuild(
        {
          out: opts.out,
          jobs: opts.jobs === undefined ? undefined : parseCount(opts.jobs, "--jobs"),
          rebuild: opts.rebuild === true,
          clean: opts.clean === true,
        },
        io,
      );
    });
  image
    .command("list")
    .summary("list the cached image sets and check them")
    .action(async () => {
      exitCode = await imageList(io);
    });
  image
    .command("add")
    .summary("register your own kernel/initrd/disk set under a name")
    .description(
      "Copy a set into the cache under NAME: DIR's Image (kernel), initramfs.cpio.gz or initramfs.cpio (initrd) " +
        "and rootfs.ext4 (disk) when present, or exactly what DIR's manifest.json names (as `popek image build " +
        "--out` writes it). Boot it with `popek run --image NAME`.",
    )
    .argument("<dir>", "directory holding the set")
    .requiredOption("--name <name>", "name to register it under")
    .option("--append <cmdline>", "kernel command line to boot it with (default console=ttyS0)")
    .action(async (dir: string, opts: { name: string; append?: string }) => {
      exitCode = await imageAdd(dir, opts.name, opts.append, io);
    });

  program.addHelpText("after", "\nRun `popek help <command>` for a command's options.");

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (e) {
    return report(e, io);
  }
}

/** Print an error thrown out of a command and choose the exit code. */
function report(e: unknown, io: CliIo): number {
  // Commander has already printed its message (or help, for `--help`/`--version`, with exit code 0).
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_HOST_ERROR;
  if (e instanceof CliError) {
    io.stderr(`popek: ${oneLine(e.message)}\n`);
    return EXIT_HOST_ERROR;
  }
  io.stderr(`popek: internal error: ${oneLine(e instanceof Error ? e.message : String(e))}\n`);
  if (process.env.POPEK_DEBUG && e instanceof Error) io.stderr(`${e.stack}\n`);
  return EXIT_INTERNAL;
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, " ");
}

/** The version in package.json, which sits two levels up from both src/cli and dist/cli. */
function packageVersion(): string {
  return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
