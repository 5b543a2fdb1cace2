/**
 * The network part of `npm run bench` (issue 6): TCP throughput between the guest and the host over user-mode
 * networking, for QEMU (`-netdev user` + virtio-net-device) and popek (`--net user`) with the same kernel, initramfs
 * and guest commands. The guest takes an address by DHCP, makes a file in tmpfs and sends it with BusyBox nc to a sink
 * the bench runs on 127.0.0.1 (reached as 10.0.2.2), then receives the same amount from a source there; times are
 * taken on the host from the connection's first to its last byte.
 */
import { createServer, type Server, type Socket } from "node:net";
import { GuestConsole, guestSetups, median, PROMPT, withTimeout } from "./guest-console.ts";

const TIMEOUT_MS = 300_000;
/** Bytes sent each way. */
const MIB = 16;

export interface NetResult {
  readonly name: string;
  /** MiB/s guest -> host and host -> guest, one entry per run. */
  readonly up: readonly number[];
  readonly down: readonly number[];
}

const DHCP_SCRIPT =
  'printf "#!/bin/sh\\ncase \\$1 in deconfig) ifconfig \\$interface 0.0.0.0 up;; bound|renew) ifconfig \\$interface ' +
  '\\$ip netmask \\$subnet; route add default gw \\$router;; esac\\n" > /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh';

/** A TCP server that measures one connection: first byte (or accept, for a source) to its end. */
function timedServer(kind: "sink" | "source"): Promise<{ server: Server; port: number; next: () => Promise<number> }> {
  let waiting: ((s: number) => void) | null = null;
  let failed: ((e: Error) => void) | null = null;
  const payload = Buffer.alloc(MIB << 20, 0x5a);
  const server = createServer((sock: Socket) => {
    let t0 = 0;
    let n = 0;
    sock.on("error", (e) => failed?.(e));
    if (kind === "sink") {
      sock.on("data", (d) => {
        if (n === 0) t0 = performance.now();
        n += d.length;
      });
      sock.on("end", () => {
        sock.end();
        if (n === payload.length) waiting?.((performance.now() - t0) / 1000);
        else failed?.(new Error(`sink got ${n} bytes, expected ${payload.length}`));
      });
    } else {
      t0 = performance.now();
      sock.on("data", () => {});
      sock.on("close", () => waiting?.((performance.now() - t0) / 1000));
      sock.end(payload);
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        server,
        port: (server.address() as { port: number }).port,
        next: () =>
          new Promise<number>((res, rej) => {
            waiting = res;
            failed = rej;
          }),
      }),
    ),
  );
}

/** One emulator: boot, DHCP, then `runs` transfers each way. Always kills the child. */
async function measure(cmd: string, args: readonly string[], runs: number, log: (s: string) => void) {
  const g = new GuestConsole(cmd, args);
  const run = async (command: string): Promise<string> => (await g.run(command))[0];
  const sink = await timedServer("sink");
  const source = await timedServer("source");
  try {
    const body = async () => {
      await g.waitFor(PROMPT, 0);
      await run(DHCP_SCRIPT);
      const dhcp = await run("udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 5");
      if (!/lease of 10\.0\.2\.15/.test(dhcp)) throw new Error(`no DHCP lease: ${dhcp}`);
      await run(`dd if=/dev/zero of=/tmp/f bs=1048576 count=${MIB} 2>/dev/null`);
      const up: number[] = [];
      const down: number[] = [];
      for (let i = 0; i < runs; i++) {
        const s = sink.next();
        await run(`nc 10.0.2.2 ${sink.port} < /tmp/f`);
        up.push(MIB / (await s));
        const r = source.next();
        await run(`nc 10.0.2.2 ${source.port} < /dev/null > /dev/null`);
        down.push(MIB / (await r));
        log(`net: run ${i + 1}/${runs}: ${up.at(-1)!.toFixed(2)} MiB/s up, ${down.at(-1)!.toFixed(2)} MiB/s down`);
      }
      return { up, down };
    };
    return await withTimeout(body(), TIMEOUT_MS);
  } finally {
    g.kill();
    sink.server.close();
    source.server.close();
  }
}

/** guest<->host TCP throughput under QEMU and popek, `runs` transfers each way. */
export async function netBench(images: string, runs: number, log: (s: string) => void): Promise<NetResult[] | string> {
  const setups = guestSetups(
    images,
    { name: "QEMU 7.2, -netdev user", extra: ["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"] },
    { name: "popek, --net user", extra: [] },
  );
  if (typeof setups === "string") return setups;
  const results: NetResult[] = [];
  for (const s of setups) {
    log(`net: ${s.name}`);
    const r = await measure(s.cmd, s.args, runs, log);
    results.push({ name: s.name, ...r });
  }
  return results;
}

export function netTable(results: readonly NetResult[]): string {
  const q = results[0]!;
  const rows = results.map((r) => {
    const up = median(r.up);
    const down = median(r.down);
    return `| ${r.name} | ${up.toFixed(2)} | ${(up / median(q.up)).toFixed(3)} | ${down.toFixed(2)} | ${(down / median(q.down)).toFixed(3)} |`;
  });
  return [
    `| TCP over user-mode networking, ${MIB} MiB each way (BusyBox nc, 1 hart) | guest->host MiB/s | ratio to QEMU | host->guest MiB/s | ratio to QEMU |`,
    "|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
