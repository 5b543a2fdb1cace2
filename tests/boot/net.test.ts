// Networking with the shared Linux guest (../shared/images) under `popek run`, all on loopback:
//  - user-mode networking (--net user, hostfwd): udhcpc gets 10.0.2.15 with router and DNS, ping of the gateway,
//    wget of a page and of 4 MiB (checked by hash) from an HTTP server the test runs on 127.0.0.1 (reached as
//    10.0.2.2), names resolved through 10.0.2.3 by the host's resolver, and a host connection through a forwarded
//    port to a guest `nc -l` (4 MiB out, 1 MiB in), checked by hash; throughput figures as diagnostics;
//  - two popek VMs on a socket cable (--net socket,listen / connect) ping each other and pass data over TCP;
//  - two VMs in this process on the in-process switch ping each other;
//  - a popek VM and a QEMU VM on the same kind of cable (QEMU's -netdev socket framing) ping each other.
// Each boot has a hard timeout, and a kernel panic or oops fails the test at once.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type Server } from "node:net";
import { after, describe, test } from "node:test";
import { virtioMmio } from "../../src/core/devices/virtio/mmio.ts";
import { VirtioNet } from "../../src/core/devices/virtio/net.ts";
import { type VirtioFactory, VirtMachine } from "../../src/core/machine/virt.ts";
import type { NetBackend } from "../../src/core/net/backend.ts";
import { NetSwitch } from "../../src/core/net/switch.ts";
import { bounded, FATAL, FW_JUMP, Guest, PROMPT, spawnGuest, spawnProcessGuest } from "./guest.ts";
import { INITRD_FAST, KERNEL } from "./guest-files.ts";

/** The uncompressed initramfs boots faster (no in-kernel gunzip); fall back to the gzip one. */
const INITRD = INITRD_FAST;
const BOOT_TIMEOUT_MS = Number(process.env.POPEK_BOOT_TIMEOUT_MS ?? 300_000);

const noImages = existsSync(KERNEL) && existsSync(INITRD) ? false : `no guest image: ${KERNEL} or ${INITRD} is missing`;
const noQemu =
  spawnSync("qemu-system-riscv64", ["--version"], { stdio: "ignore" }).status === 0 && existsSync(FW_JUMP)
    ? false
    : "qemu-system-riscv64 or OpenSBI's fw_jump.bin is missing (Debian packages qemu-system-misc, opensbi)";

function popek(name: string, net: string[]): Guest {
  return spawnGuest(
    ["--kernel", KERNEL, "--initrd", INITRD, "--append", "console=ttyS0", ...net.flatMap((n) => ["--net", n])],
    { name },
  );
}

/** A virt machine in this process with one virtio-net card on `backend`, running until it powers off. */
function machineGuest(name: string, backend: NetBackend, mac: Uint8Array): Guest {
  const g = new Guest(name);
  const virtio = new Array<VirtioFactory | undefined>(8).fill(undefined);
  virtio[7] = virtioMmio(new VirtioNet(backend, mac), { onError: (m) => g.output(`\n[${m}]\n`) });
  const m = new VirtMachine(
    {
      ramSize: 256 << 20,
      harts: 1,
      kernel: readFileSync(KERNEL),
      initrd: readFileSync(INITRD),
      bootargs: "console=ttyS0",
      virtio,
    },
    { onOutput: (b) => g.output(Buffer.from(b).toString("latin1")) },
  );
  g.type = (text) => m.sendInput(Buffer.from(text));
  g.kill = () => m.stop();
  m.run().then(
    (e) => g.exit(e.kind === "poweroff" ? e.code : -1),
    (e: Error) => {
      g.error(e.stack ?? String(e));
      g.exit(-2);
    },
  );
  return g;
}

/** A TCP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const closers: (() => void)[] = [];
after(() => {
  for (const c of closers) c();
});

function listen(server: Server): Promise<number> {
  closers.push(() => server.close());
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)));
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
/** MD5 for what the guest hashes: BusyBox's md5sum is a few times faster than sha256sum in an emulated guest. */
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

/** Deterministic bytes that do not compress. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 255;
  }
  return b;
}

/** udhcpc's hook: bring the card up, then configure address, route and resolver from the lease. */
const DHCP_SCRIPT =
  'printf "#!/bin/sh\\ncase \\$1 in deconfig) ifconfig \\$interface 0.0.0.0 up;; bound|renew) ifconfig \\$interface ' +
  '\\$ip netmask \\$subnet; route add default gw \\$router; echo nameserver \\$dns > /etc/resolv.conf;; esac\\n" ' +
  "> /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh";

/** Shell loop until a TCP port listens in the guest. */
const WAIT_LISTEN = (port: number) => `while ! netstat -ltn | grep -q ':${port} '; do usleep 50000; done`;

/** Seconds from BusyBox `time` output. */
const seconds = (out: string): number => Number(/real\s+(?:(\d+)m\s*)?([\d.]+)s/.exec(out)?.[2] ?? Number.NaN);

describe("user-mode networking", { timeout: BOOT_TIMEOUT_MS + 10_000 }, () => {
  test("DHCP, ping, HTTP from the host, DNS through the host's resolver, a forwarded port both ways", {
    skip: noImages,
  }, async (t) => {
    const page = "hello from the host\n";
    const big = pattern(4 << 20, 7);
    const http = createHttpServer((req, res) => {
      if (req.url === "/big") res.end(big);
      else res.end(page);
    });
    const httpPort = await listen(http as unknown as Server);
    let sinkHash = "";
    let sinkBytes = 0;
    const sink = createServer((s) => {
      const h = createHash("sha256");
      s.on("data", (d) => {
        h.update(d);
        sinkBytes += d.length;
      });
      s.on("end", () => {
        sinkHash = h.digest("hex");
        s.end();
      });
    });
    const sinkPort = await listen(sink);
    const fwdPort = await freePort();
    let g: Guest | null = null;
    await bounded(
      () => (g === null ? [] : [g]),
      BOOT_TIMEOUT_MS,
      async () => {
        const start = performance.now();
        const guest = popek("popek", [`user,hostfwd=tcp:127.0.0.1:${fwdPort}-:22`]);
        g = guest;
        await guest.waitFor(PROMPT);
        t.diagnostic(`prompt after ${((performance.now() - start) / 1000).toFixed(2)} s`);

        await guest.run(DHCP_SCRIPT);
        const dhcp = await guest.run("udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 5");
        assert.match(dhcp, /lease of 10\.0\.2\.15 obtained from 10\.0\.2\.2, lease time 86400/);
        const ip = await guest.run("ip addr show eth0; ip route; cat /etc/resolv.conf");
        assert.match(ip, /link\/ether 52:54:00:12:34:56/);
        assert.match(ip, /inet 10\.0\.2\.15\/24/);
        assert.match(ip, /default via 10\.0\.2\.2 dev eth0/);
        assert.match(ip, /nameserver 10\.0\.2\.3/);

        const ping = await guest.run("ping -c 2 10.0.2.2");
        assert.match(ping, /2 packets transmitted, 2 packets received, 0% packet loss/);

        const wget = await guest.run(`wget -q -O - http://10.0.2.2:${httpPort}/`);
        assert.ok(wget.includes(page), wget);
        const down = await guest.run(`time wget -q -O /tmp/big http://10.0.2.2:${httpPort}/big; md5sum /tmp/big`);
        assert.ok(down.includes(md5(big)), `hash of the 4 MiB download:\n${down}`);
        const downS = seconds(down);
        t.diagnostic(`HTTP host->guest 4 MiB in ${downS} s (${(4 / downS).toFixed(2)} MiB/s)`);

        // DNS at 10.0.2.3, answered from the host's resolver (localhost, and a name from the host's /etc/hosts).
        const ns = await guest.run("nslookup localhost");
        assert.match(ns, /Server:\s+10\.0\.2\.3/);
        assert.match(ns, /Name:\s+localhost\nAddress:\s+127\.0\.0\.1/);
        const hostsName = readFileSync("/etc/hosts", "latin1")
          .split("\n")
          .map((l) => l.replace(/#.*/, "").trim().split(/\s+/))
          .find(
            (f) =>
              /^\d+\.\d+\.\d+\.\d+$/.test(f[0] ?? "") &&
              f.slice(1).some((n) => /^[a-z][a-z0-9-]*$/i.test(n) && n !== "localhost"),
          );
        if (hostsName !== undefined) {
          const name = hostsName.slice(1).find((n) => /^[a-z][a-z0-9-]*$/i.test(n) && n !== "localhost")!;
          const r = await guest.run(`nslookup ${name}`);
          assert.ok(r.includes(`Address: ${hostsName[0]}`) || r.includes(`Address:\t${hostsName[0]}`), r);
          t.diagnostic(`resolved ${name} -> ${hostsName[0]} from the host's /etc/hosts`);
        }

        // Guest -> host over TCP (throughput figure).
        const up = await guest.run(`time nc 10.0.2.2 ${sinkPort} < /tmp/big`);
        const upS = seconds(up);
        for (let i = 0; i < 100 && sinkHash === ""; i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(sinkBytes, big.length);
        assert.equal(sinkHash, sha256(big));
        t.diagnostic(`TCP guest->host 4 MiB in ${upS} s (${(4 / upS).toFixed(2)} MiB/s)`);

        // A host connection through the forwarded port to `nc -l` in the guest: the 4 MiB file to the host,
        // 1 MiB from the host, both checked by hash.
        const toGuest = pattern(1 << 20, 11);
        await guest.run(`(nc -l -p 22 < /tmp/big > /tmp/in &); ${WAIT_LISTEN(22)}`);
        const t0 = performance.now();
        const fromGuest = await new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const c = connect(fwdPort, "127.0.0.1");
          c.on("error", reject);
          c.on("data", (d) => chunks.push(d));
          c.on("end", () => resolve(Buffer.concat(chunks)));
          c.end(toGuest);
        });
        t.diagnostic(`forwarded port: 4 MiB out and 1 MiB in, ${((performance.now() - t0) / 1000).toFixed(2)} s`);
        assert.equal(fromGuest.length, big.length);
        assert.equal(sha256(fromGuest), sha256(big), "guest -> host through the forwarded port");
        const inHash = await guest.run("md5sum /tmp/in");
        assert.ok(inHash.includes(md5(toGuest)), `host -> guest through the forwarded port:\n${inHash}`);

        const code = await guest.poweroff();
        assert.equal(code, 0, guest.err);
        assert.doesNotMatch(guest.out, FATAL);
      },
    );
  });
});

describe("VM to VM: socket cables and the in-process switch", { timeout: 2 * BOOT_TIMEOUT_MS + 10_000 }, () => {
  const configure = async (g: Guest, ip: string) => {
    const r = await g.run(`ifconfig eth0 ${ip} netmask 255.255.255.0 up; ip addr show eth0`);
    assert.match(r, new RegExp(`inet ${ip.replaceAll(".", "\\.")}/24`));
  };

  test("two popek VMs ping each other and pass data over TCP", { skip: noImages }, async (t) => {
    const port = await freePort();
    const guests: Guest[] = [];
    await bounded(
      () => guests,
      BOOT_TIMEOUT_MS,
      async () => {
        const a = popek("vm-a", [`socket,listen=127.0.0.1:${port},mac=52:54:00:12:34:0a`]);
        guests.push(a);
        await a.waitFor("Linux version"); // listening by now
        const b = popek("vm-b", [`socket,connect=127.0.0.1:${port},mac=52:54:00:12:34:0b`]);
        guests.push(b);
        await Promise.all([a.waitFor(PROMPT), b.waitFor(PROMPT)]);
        await configure(a, "10.0.3.1");
        await configure(b, "10.0.3.2");
        const ab = await a.run("ping -c 3 10.0.3.2");
        assert.match(ab, /3 packets transmitted, 3 packets received, 0% packet loss/);
        const ba = await b.run("ping -c 3 10.0.3.1");
        assert.match(ba, /3 packets transmitted, 3 packets received, 0% packet loss/);
        t.diagnostic(/round-trip.*/.exec(ab)?.[0] ?? "");
        await b.run(
          `dd if=/dev/urandom of=/tmp/x bs=65536 count=4 2>/dev/null; (nc -l -p 5000 < /tmp/x &); ${WAIT_LISTEN(5000)}`,
        );
        const sent = /([0-9a-f]{32})/.exec(await b.run("md5sum /tmp/x"))![1]!;
        const got = await a.run("nc 10.0.3.2 5000 < /dev/null | md5sum");
        assert.ok(got.includes(sent), `256 KiB from vm-b to vm-a over TCP:\n${got}`);
        assert.equal(await a.poweroff(), 0);
        assert.equal(await b.poweroff(), 0);
      },
    );
  });

  test("two VMs in this process on an in-process switch ping each other", { skip: noImages }, async () => {
    const sw = new NetSwitch();
    const guests: Guest[] = [];
    await bounded(
      () => guests,
      BOOT_TIMEOUT_MS,
      async () => {
        const a = machineGuest("in-a", sw.port(), Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x1a));
        const b = machineGuest("in-b", sw.port(), Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x1b));
        guests.push(a, b);
        await Promise.all([a.waitFor(PROMPT), b.waitFor(PROMPT)]);
        await configure(a, "10.0.5.1");
        await configure(b, "10.0.5.2");
        assert.match(await a.run("ping -c 3 10.0.5.2"), /3 packets received, 0% packet loss/);
        assert.match(await b.run("ping -c 3 10.0.5.1"), /3 packets received, 0% packet loss/);
        assert.ok(sw.forwarded >= 12);
        assert.equal(await a.poweroff(), 0);
        assert.equal(await b.poweroff(), 0);
      },
    );
  });

  test("a popek VM and a QEMU VM (-netdev socket) ping each other", { skip: noImages || noQemu }, async () => {
    const port = await freePort();
    const guests: Guest[] = [];
    await bounded(
      () => guests,
      BOOT_TIMEOUT_MS,
      async () => {
        const a = popek("popek", [`socket,listen=127.0.0.1:${port}`]);
        guests.push(a);
        await a.waitFor("Linux version");
        const q = spawnProcessGuest("qemu", "qemu-system-riscv64", [
          "-M",
          "virt",
          "-m",
          "256M",
          "-nographic",
          "-bios",
          FW_JUMP,
          "-kernel",
          KERNEL,
          "-initrd",
          INITRD,
          "-append",
          "console=ttyS0",
          "-netdev",
          `socket,id=n0,connect=127.0.0.1:${port}`,
          "-device",
          "virtio-net-device,netdev=n0,mac=52:54:00:12:34:99",
        ]);
        guests.push(q);
        await Promise.all([a.waitFor(PROMPT), q.waitFor(PROMPT)]);
        await configure(a, "10.0.4.1");
        await configure(q, "10.0.4.2");
        assert.match(await a.run("ping -c 3 10.0.4.2"), /3 packets received, 0% packet loss/);
        assert.match(await q.run("ping -c 3 10.0.4.1"), /3 packets received, 0% packet loss/);
        assert.equal(await a.poweroff(), 0);
        assert.equal(await q.poweroff(), 0);
      },
    );
  });
});
