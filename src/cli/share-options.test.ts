// --share values: folder, tag= and readonly=, default and duplicate tags, ",," in folder names; every bad value is a
// CliError naming the option; opening checks the folder and builds one virtio-9p device per share.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CliError } from "./options.ts";
import { openShares, parseShareOptions } from "./share-options.ts";

const base = fs.mkdtempSync(join(tmpdir(), "popek-share-opt-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));

test("good values", () => {
  assert.deepEqual(parseShareOptions([]), []);
  assert.deepEqual(parseShareOptions(["/srv/a", "/srv/b,readonly=on", "/srv/c,tag=data,readonly=off", "/srv/d"]), [
    { path: "/srv/a", tag: "host", readOnly: false },
    { path: "/srv/b", tag: "host1", readOnly: true },
    { path: "/srv/c", tag: "data", readOnly: false },
    { path: "/srv/d", tag: "host2", readOnly: false },
  ]);
  assert.deepEqual(parseShareOptions(["/srv/x,tag=host", "/srv/y"]), [
    { path: "/srv/x", tag: "host", readOnly: false },
    { path: "/srv/y", tag: "host1", readOnly: false },
  ]);
  assert.deepEqual(parseShareOptions(["/srv/a,,b,,,tag=t"]), [{ path: "/srv/a,b,", tag: "t", readOnly: false }]);
});

test("bad values are CliErrors naming the option", () => {
  const bad: [string[], RegExp][] = [
    [[""], /--share : no folder given/],
    [[",tag=x"], /no folder given/],
    [["/a,tag="], /tag=: use 1 to 64/],
    [["/a,tag=has space"], /tag=has space/],
    [["/a,tag=é"], /tag=é/],
    [["/a,readonly=maybe"], /readonly=maybe: use on or off/],
    [["/a,ro=on"], /unknown parameter ro/],
    [["/a,readonly"], /readonly needs a value/],
    [["/a,"], /empty parameter/],
    [["/a,tag=t", "/b,tag=t"], /--share \/b,tag=t: tag t is already used/],
  ];
  for (const [values, re] of bad)
    assert.throws(
      () => parseShareOptions(values),
      (e) => e instanceof CliError && re.test(e.message),
      values.join(" "),
    );
});

test("opening: a missing folder or a file is a CliError; a folder becomes a virtio-9p device with its tag", async () => {
  fs.writeFileSync(join(base, "file"), "");
  await assert.rejects(
    openShares(parseShareOptions([join(base, "nope")]), () => {}),
    (e) => e instanceof CliError && /--share .*nope: no such directory/.test(e.message),
  );
  await assert.rejects(
    openShares(parseShareOptions([join(base, "file")]), () => {}),
    (e) => e instanceof CliError && /not a directory/.test(e.message),
  );
  const open = await openShares(parseShareOptions([base, `${base},tag=ro,readonly=on`]), () => {});
  assert.equal(open.devices.length, 2);
  assert.equal(open.factories.length, 2);
  assert.equal(open.devices[0]!.deviceId, 9);
  assert.deepEqual([...open.devices[1]!.config], [2, 0, 0x72, 0x6f]);
  assert.equal(open.devices[1]!.server.backend.readOnly, true);
  await open.close();
});
