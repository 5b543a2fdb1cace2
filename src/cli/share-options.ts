/**
 * `popek run --share HOSTDIR[,tag=T][,readonly=on]`: a host folder the guest mounts with
 * `mount -t 9p -o trans=virtio,version=9p2000.L T /mnt`. Each --share adds one virtio-9p device; tags default to
 * `host`, then `host1`, `host2`, … and must differ. A comma in HOSTDIR is written `,,` (as in QEMU's options).
 */
import { Virtio9p } from "../core/devices/virtio/9p.ts";
import { virtioMmio } from "../core/devices/virtio/mmio.ts";
import type { VirtioFactory } from "../core/machine/virt.ts";
import { NodeShare, ShareError } from "../host/node/share.ts";
import { CliError, keyValue, onOff, splitParams } from "./options.ts";

export interface ShareSpec {
  readonly path: string;
  readonly tag: string;
  readonly readOnly: boolean;
}

/** Tag characters: what `mount` takes as a source without quoting, and no comma (the option separator). */
const TAG = /^[A-Za-z0-9_.:+@-]{1,64}$/;

/** Parse every --share value, in order. */
export function parseShareOptions(values: readonly string[]): ShareSpec[] {
  const specs: ShareSpec[] = [];
  const tags = new Set<string>();
  let unnamed = 0;
  for (const text of values) {
    const where = `--share ${text}`;
    const parts = splitParams(text);
    const path = parts[0]!;
    if (path === "") throw new CliError(`${where}: no folder given (--share HOSTDIR[,tag=T][,readonly=on])`);
    let tag: string | undefined;
    let readOnly = false;
    for (const p of parts.slice(1)) {
      const [key, value] = keyValue(p, where);
      if (key === "tag") {
        if (!TAG.test(value)) {
          throw new CliError(`${where}: tag=${value}: use 1 to 64 letters, digits or _ . : + @ -`);
        }
        tag = value;
      } else if (key === "readonly") {
        readOnly = onOff(value, `${where}: readonly`);
      } else {
        throw new CliError(`${where}: unknown parameter ${key} (--share takes tag= and readonly=)`);
      }
    }
    if (tag === undefined) {
      while (tags.has(defaultTag(unnamed))) unnamed++;
      tag = defaultTag(unnamed++);
    }
    if (tags.has(tag)) throw new CliError(`${where}: tag ${tag} is already used by another --share`);
    tags.add(tag);
    specs.push({ path, tag, readOnly });
  }
  return specs;
}

const defaultTag = (n: number): string => (n === 0 ? "host" : `host${n}`);

/** Shares opened for a machine: one virtio slot factory each, and a way to close the host folders afterwards. */
export interface OpenShares {
  readonly devices: readonly Virtio9p[];
  readonly factories: readonly VirtioFactory[];
  close(): Promise<void>;
}

/**
 * Open every share's folder (host failures become CliErrors naming the option) and wrap each in a virtio-9p device.
 * `onError` receives device errors (DEVICE_NEEDS_RESET) and host failures that are not plain errno results.
 */
export async function openShares(specs: readonly ShareSpec[], onError: (message: string) => void): Promise<OpenShares> {
  const shares: NodeShare[] = [];
  const close = async () => {
    await Promise.allSettled(shares.map((s) => s.close()));
  };
  try {
    for (const s of specs) shares.push(await NodeShare.open(s.path, { readOnly: s.readOnly }));
  } catch (e) {
    await close();
    if (e instanceof ShareError) throw new CliError(`--share ${e.message}`);
    throw e;
  }
  const devices = specs.map(
    (s, i) =>
      new Virtio9p(shares[i]!, s.tag, {
        onHostError: (e) => onError(`9p share ${s.tag}: host error: ${e instanceof Error ? e.message : String(e)}`),
      }),
  );
  const factories = devices.map((d) => virtioMmio(d, { onError: (m) => onError(`${d.name}: ${m}`) }));
  return { devices, factories, close };
}
