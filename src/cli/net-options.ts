/**
 * `popek run --net …`: network cards and what their cables plug into, in QEMU's words. `user` is QEMU's
 * `-netdev user` (on by default, as in QEMU): `user[,hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport]…
 * [,restrict=on|off][,mac=52:54:00:12:34:56]`. `socket,listen=HOST:PORT` / `socket,connect=HOST:PORT` is QEMU's
 * `-netdev socket` cable to another VM. `none` leaves the machine without a card. Each --net adds one virtio-net
 * card; MACs default to QEMU's 52:54:00:12:34:56, the next card's ending in 57 and so on.
 */
import { virtioMmio } from "../core/devices/virtio/mmio.ts";
import { VirtioNet } from "../core/devices/virtio/net.ts";
import type { VirtioFactory } from "../core/machine/virt.ts";
import type { NetBackend } from "../core/net/backend.ts";
import { HostNetError } from "../core/net/host.ts";
import { macToString, parseIp, parseMac } from "../core/net/packet.ts";
import { type HostForward, SLIRP_DHCP_START, SLIRP_NETMASK, SLIRP_NETWORK, Slirp } from "../core/net/slirp.ts";
import { NodeNetHost } from "../host/node/net.ts";
import { SocketBackend } from "../host/node/net-socket.ts";
import { CliError, keyValue, onOff, splitParams } from "./options.ts";

export type NetSpec =
  | {
      readonly kind: "user";
      readonly mac: Uint8Array;
      readonly restrict: boolean;
      readonly hostForwards: readonly HostForward[];
    }
  | {
      readonly kind: "socket";
      readonly mac: Uint8Array;
      readonly mode: "listen" | "connect";
      readonly host: string;
      readonly port: number;
    };

/** Parse every --net value (in order); none given means one `user` card. `none` must stand alone. */
export function parseNetOptions(values: readonly string[]): NetSpec[] {
  if (values.length === 0) values = ["user"];
  if (values.includes("none")) {
    if (values.length > 1) throw new CliError("--net none cannot be combined with other --net options");
    return [];
  }
  const specs = values.map((v, i) => parseNet(v, i));
  const seen = new Set<string>();
  for (const s of specs) {
    const m = macToString(s.mac);
    if (seen.has(m)) throw new CliError(`--net: two cards with MAC ${m}; give one of them mac=…`);
    seen.add(m);
  }
  return specs;
}

function parseNet(text: string, index: number): NetSpec {
  const [kind, ...params] = splitParams(text);
  const where = `--net ${text}`;
  const mac = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56 + index);
  if (index > 0xff - 0x56) throw new CliError(`${where}: too many cards`);
  if (kind === "user") {
    let restrict = false;
    const hostForwards: HostForward[] = [];
    let userMac: Uint8Array = mac;
    for (const p of params) {
      const [key, value] = keyValue(p, where);
      if (key === "hostfwd") hostForwards.push(parseHostFwd(value, where));
      else if (key === "restrict") restrict = onOff(value, `${where}: restrict`);
      else if (key === "mac") userMac = macParam(value, where);
      else throw new CliError(`${where}: unknown parameter ${key} (user takes hostfwd=, restrict=, mac=)`);
    }
    const ports = new Set<string>();
    for (const f of hostForwards) {
      const k = `${f.proto}:${f.hostAddr}:${f.hostPort}`;
      if (f.hostPort !== 0 && ports.has(k))
        throw new CliError(`${where}: host port ${f.proto}:${f.hostPort} forwarded twice`);
      ports.add(k);
    }
    return { kind: "user", mac: userMac, restrict, hostForwards };
  }
  if (kind === "socket") {
    let mode: "listen" | "connect" | null = null;
    let host = "";
    let port = 0;
    let sockMac: Uint8Array = mac;
    for (const p of params) {
      const [key, value] = keyValue(p, where);
      if (key === "listen" || key === "connect") {
        if (mode !== null) throw new CliError(`${where}: give one of listen= or connect=`);
        mode = key;
        const i = value.lastIndexOf(":");
        if (i < 0) throw new CliError(`${where}: ${key}=${value}: expected HOST:PORT`);
        host = value.slice(0, i);
        if (host === "") host = key === "listen" ? "0.0.0.0" : "127.0.0.1";
        if (parseIp(host) === null && host !== "localhost") {
          throw new CliError(`${where}: ${key}=${value}: the host must be an IPv4 address or localhost`);
        }
        port = portNumber(value.slice(i + 1), `${where}: ${key}`, key === "listen");
      } else if (key === "mac") {
        sockMac = macParam(value, where);
      } else {
        throw new CliError(`${where}: unknown parameter ${key} (socket takes listen= or connect=, and mac=)`);
      }
    }
    if (mode === null) throw new CliError(`${where}: socket needs listen=HOST:PORT or connect=HOST:PORT`);
    return { kind: "socket", mac: sockMac, mode, host, port };
  }
  throw new CliError(`${where}: unknown network type ${kind}; use user, socket or none`);
}

function macParam(v: string, where: string): Uint8Array {
  const m = parseMac(v);
  if (m === null) throw new CliError(`${where}: mac=${v}: expected six hex bytes like 52:54:00:12:34:56`);
  if ((m[0]! & 1) !== 0) throw new CliError(`${where}: mac=${v}: a multicast address cannot be a card's address`);
  return m;
}

function portNumber(v: string, what: string, zeroOk: boolean): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535 || (!zeroOk && Number(v) === 0)) {
    throw new CliError(`${what}: port ${v === "" ? "(empty)" : v} is not a port number (${zeroOk ? 0 : 1}-65535)`);
  }
  return Number(v);
}

/** `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport` (QEMU's hostfwd syntax). */
function parseHostFwd(v: string, where: string): HostForward {
  const what = `${where}: hostfwd=${v}`;
  const m = /^(tcp|udp|)?:([^:]*):(\d*)-([^:]*):(\d*)$/.exec(v);
  if (m === null) throw new CliError(`${what}: expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`);
  const proto = m[1] === "udp" ? "udp" : "tcp";
  const hostAddr = m[2]!;
  if (hostAddr !== "" && parseIp(hostAddr) === null)
    throw new CliError(`${what}: host address ${hostAddr} is not IPv4`);
  const hostPort = portNumber(m[3]!, what, true);
  let guestAddr: number | undefined;
  if (m[4] !== "") {
    const g = parseIp(m[4]!);
    if (g === null || (g & SLIRP_NETMASK) >>> 0 !== SLIRP_NETWORK) {
      throw new CliError(`${what}: guest address ${m[4]} is not on the guest network 10.0.2.0/24`);
    }
    guestAddr = g;
  }
  const guestPort = portNumber(m[5]!, what, false);
  return { proto, hostAddr, hostPort, guestAddr: guestAddr ?? SLIRP_DHCP_START, guestPort };
}

/** Open the backend a spec describes (binding forwards, listening or connecting); host failures become CliErrors. */
export async function openNetBackend(spec: NetSpec, onError: (message: string) => void): Promise<NetBackend> {
  try {
    if (spec.kind === "user") {
      const s = new Slirp(new NodeNetHost(), { restrict: spec.restrict, hostForwards: spec.hostForwards });
      try {
        await s.start();
      } catch (e) {
        s.close();
        throw e;
      }
      return s;
    }
    const b = new SocketBackend({ mode: spec.mode, host: spec.host, port: spec.port });
    b.onError = onError;
    await b.start();
    return b;
  } catch (e) {
    if (e instanceof HostNetError) throw new CliError(`--net ${spec.kind}: ${e.message}`);
    throw e;
  }
}

/** The cards of a machine, ready for MachineConfig.virtio, and a way to release their host sockets. */
export interface NetDevices {
  readonly cards: readonly VirtioNet[];
  readonly factories: readonly VirtioFactory[];
  close(): void;
}

/** Open every spec's backend and put a virtio-net card on each; on a failure the ones opened are closed again. */
export async function openNetDevices(
  specs: readonly NetSpec[],
  onError: (message: string) => void,
): Promise<NetDevices> {
  const backends: NetBackend[] = [];
  const close = () => {
    for (const b of backends) b.close();
  };
  try {
    for (const s of specs) backends.push(await openNetBackend(s, onError));
  } catch (e) {
    close();
    throw e;
  }
  const cards = backends.map((b, i) => new VirtioNet(b, specs[i]!.mac));
  return { cards, factories: cards.map((c) => virtioMmio(c, { onError })), close };
}
