// --drive values: file=, readonly=, snapshot=, format=raw, if=virtio, media=disk, serial=, ",," in paths; every bad
// value is a CliError naming the option; opening builds one virtio-blk per drive and maps host failures to one line.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDrives, parseDriveOptions } from "./drive-options.ts";
import { CliError } from "./options.ts";

const base = fs.mkdtempSync(join(tmpdir(), "popek-drive-opt-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));

test("good values", () => {
  assert.deepEqual(parseDriveOptions([]), []);
  assert.deepEqual(
    parseDriveOptions([
      "file=/img/a.raw",
      "file=/img/b.raw,readonly=on,format=raw",
      "if=virtio,file=/img/c.raw,snapshot=yes,media=disk,serial=disk-c",
      "file=/img/a,,b.raw,readonly=off,snapshot=false",
    ]),
    [
      { path: "/img/a.raw", readOnly: false, snapshot: false, serial: undefined },
      { path: "/img/b.raw", readOnly: true, snapshot: false, serial: undefined },
      { path: "/img/c.raw", readOnly: false, snapshot: true, serial: "disk-c" },
      { path: "/img/a,b.raw", readOnly: false, snapshot: false, serial: undefined },
    ],
  );
});

test("bad values are one-line CliErrors naming the option", () => {
  const bad: [string, RegExp][] = [
    ["/img/a.raw", /--drive \/img\/a.raw: \/img\/a.raw needs a value/],
    ["readonly=on", /no file= given; use --drive file=PATH/],
    ["file=", /file= is empty/],
    ["file=a,readonly=maybe", /readonly=maybe: use on or off/],
    ["file=a,snapshot=1", /snapshot=1: use on or off/],
    ["file=a,format=qcow2", /format=qcow2: only raw images are supported/],
    ["file=a,if=ide", /if=ide: only if=virtio/],
    ["file=a,media=cdrom", /media=cdrom: only media=disk/],
    ["file=a,cache=none", /unknown parameter cache/],
    ["file=a,", /empty parameter/],
    ["file=a,serial=123456789012345678901", /serial=.*at most 20 printable ASCII/],
  ];
  for (const [v, re] of bad) {
    assert.throws(
      () => parseDriveOptions([v]),
      (e: unknown) => e instanceof CliError && re.test(e.message) && !e.message.includes("\n"),
      v,
    );
  }
});

test("opening: one virtio-blk per drive; missing files and locked images are CliErrors; close drops the locks", async () => {
  const a = join(base, "a.raw");
  const b = join(base, "b.raw");
  fs.writeFileSync(a, new Uint8Array(4096));
  fs.writeFileSync(b, new Uint8Array(8192));
  const errors: string[] = [];
  const opened = await openDrives(parseDriveOptions([`file=${a}`, `file=${b},readonly=on`]), (m) => errors.push(m));
  assert.equal(opened.devices.length, 2);
  assert.equal(opened.factories.length, 2);
  assert.equal(opened.devices[0]!.capacity, 8);
  assert.equal(opened.devices[1]!.backend.readOnly, true);
  await assert.rejects(
    openDrives(parseDriveOptions([`file=${a}`]), () => {}),
    (e: unknown) => {
      assert.ok(e instanceof CliError);
      assert.match(e.message, new RegExp(`--drive file=${a}: in use read-write by popek process ${process.pid}`));
      return true;
    },
  );
  await opened.close();
  assert.ok(!fs.existsSync(`${a}.popek-lock`));
  await assert.rejects(
    openDrives(parseDriveOptions([`file=${b}`, `file=${join(base, "none.raw")}`]), () => {}),
    /none.raw: no such file/,
  );
  assert.ok(!fs.existsSync(`${b}.popek-lock`), "drives opened before a failing one are closed again");
});
