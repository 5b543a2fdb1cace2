/**
 * `popek run --drive file=PATH[,readonly=on][,snapshot=on][,format=raw][,serial=S]`: raw disk images as virtio-blk
 * devices, in QEMU's -drive syntax (`if=virtio` and `media=disk` are accepted; a comma in PATH is written `,,`).
 * Each --drive adds one disk; the first is /dev/vda in a Linux guest, as under QEMU. `readonly=on` gives the guest a
 * read-only disk; `snapshot=on` keeps the guest's writes in memory and leaves the image untouched.
 */
import { VirtioBlk } from "../core/devices/virtio/blk.ts";
import { virtioMmio } from "../core/devices/virtio/mmio.ts";
import type { VirtioFactory } from "../core/machine/virt.ts";
import { type Drive, DriveError, openDrive } from "../host/node/block-file.ts";
import { CliError, keyValue, onOff, splitParams } from "./options.ts";

export interface DriveSpec {
  readonly path: string;
  readonly readOnly: boolean;
  readonly snapshot: boolean;
  /** GET_ID string (QEMU's serial=). */
  readonly serial?: string;
}

const USAGE = "--drive file=PATH[,readonly=on][,snapshot=on][,format=raw][,serial=S]";

/** Parse every --drive value, in order. */
export function parseDriveOptions(values: readonly string[]): DriveSpec[] {
  const specs: DriveSpec[] = [];
  for (const text of values) {
    const where = `--drive ${text}`;
    let path: string | undefined;
    let readOnly = false;
    let snapshot = false;
    let serial: string | undefined;
    for (const p of splitParams(text)) {
      const [key, value] = keyValue(p, where, USAGE);
      switch (key) {
        case "file":
          if (value === "") throw new CliError(`${where}: file= is empty`);
          path = value;
          break;
        case "readonly":
          readOnly = onOff(value, `${where}: readonly`);
          break;
        case "snapshot":
          snapshot = onOff(value, `${where}: snapshot`);
          break;
        case "format":
          if (value !== "raw") throw new CliError(`${where}: format=${value}: only raw images are supported`);
          break;
        case "if":
          if (value !== "virtio") throw new CliError(`${where}: if=${value}: only if=virtio disks are supported`);
          break;
        case "media":
          if (value !== "disk") throw new CliError(`${where}: media=${value}: only media=disk is supported`);
          break;
        case "serial":
          if (value.length > 20 || !/^[\x20-\x7e]*$/.test(value)) {
            throw new CliError(`${where}: serial=${value}: at most 20 printable ASCII characters`);
          }
          serial = value;
          break;
        default:
          throw new CliError(
            `${where}: unknown parameter ${key} (--drive takes file=, readonly=, snapshot=, format=raw, serial=)`,
          );
      }
    }
    if (path === undefined) throw new CliError(`${where}: no file= given; use ${USAGE}`);
    specs.push({ path, readOnly, snapshot, serial });
  }
  return specs;
}

/** Drives opened for a machine: one virtio slot factory each, and a way to close them once the machine stops. */
export interface OpenDrives {
  readonly devices: readonly VirtioBlk[];
  readonly factories: readonly VirtioFactory[];
  /** Wait for the disks' requests in flight, fsync, close the images and drop their locks. */
  close(): Promise<void>;
}

/** Open every drive (host failures become CliErrors naming the option); `onError` gets device and I/O errors. */
export async function openDrives(specs: readonly DriveSpec[], onError: (message: string) => void): Promise<OpenDrives> {
  const drives: Drive[] = [];
  const closeDrives = async () => {
    await Promise.allSettled(drives.map((d) => d.close()));
  };
  try {
    for (const s of specs) {
      try {
        drives.push(await openDrive(s.path, { readOnly: s.readOnly, snapshot: s.snapshot }));
      } catch (e) {
        if (e instanceof DriveError) throw new CliError(`--drive file=${s.path}: ${e.message}`);
        throw e;
      }
    }
  } catch (e) {
    await closeDrives();
    throw e;
  }
  const devices = drives.map((d, i) => new VirtioBlk(d.backend, { serial: specs[i]!.serial }));
  const factories = devices.map((dev, i) =>
    virtioMmio(dev, { onError: (m) => onError(`drive ${specs[i]!.path}: ${m}`) }),
  );
  return {
    devices,
    factories,
    close: async () => {
      await Promise.allSettled(devices.map((d) => d.drain()));
      await closeDrives();
    },
  };
}
