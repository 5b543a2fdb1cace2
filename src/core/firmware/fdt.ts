/**
 * Flattened device tree (DTB) builder and reader, format version 17 (Devicetree Specification v0.4, chapter 5):
 * header, memory reservation block, structure block, strings block (property names stored once). Nodes keep their
 * children and properties in insertion order, which is the order they are written in.
 */

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 0x1;
const FDT_END_NODE = 0x2;
const FDT_PROP = 0x3;
const FDT_NOP = 0x4;
const FDT_END = 0x9;
const HEADER_SIZE = 40;
const VERSION = 17;
const LAST_COMP_VERSION = 16;

/** Host error: a tree was built wrong or a blob is not a valid DTB. */
export class FdtError extends Error {
  readonly code = "FDT_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "FdtError";
  }
}

/** Node names: spec §2.2.1 characters, then an optional unit address. */
const NODE_NAME = /^[A-Za-z0-9,._+-]{1,31}(@[A-Za-z0-9,._+-]+)?$/;
/** Property names: spec §2.2.4 characters. */
const PROP_NAME = /^[A-Za-z0-9,._+?#-]{1,31}$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface FdtProperty {
  readonly name: string;
  readonly value: Uint8Array;
}

export interface MemoryReservation {
  readonly address: bigint;
  readonly size: bigint;
}

export class FdtNode {
  readonly name: string;
  readonly props: FdtProperty[] = [];
  readonly children: FdtNode[] = [];

  /** `name` is "" for the root. Throws FdtError for a name the spec does not allow, unless `validate` is false. */
  constructor(name: string, validate = true) {
    if (validate && name !== "" && !NODE_NAME.test(name)) throw new FdtError(`invalid node name "${name}"`);
    this.name = name;
  }

  /** Add and return a child node. Throws FdtError if a sibling has that name. */
  node(name: string): FdtNode {
    if (this.child(name) !== undefined) throw new FdtError(`duplicate node "${name}" in "${this.name || "/"}"`);
    const n = new FdtNode(name);
    this.children.push(n);
    return n;
  }

  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }

  /** The node at a path relative to this one ("soc/serial@10000000"; a leading "/" is ignored). */
  find(path: string): FdtNode | undefined {
    let n: FdtNode | undefined = this;
    for (const part of path.split("/")) {
      if (part === "") continue;
      n = n?.child(part);
    }
    return n;
  }

  /** A property's raw value. */
  prop(name: string): Uint8Array | undefined {
    return this.props.find((p) => p.name === name)?.value;
  }

  /** Add a property with raw bytes. Throws FdtError for a bad or duplicate name. */
  bytes(name: string, value: Uint8Array): this {
    if (!PROP_NAME.test(name)) throw new FdtError(`invalid property name "${name}"`);
    if (this.prop(name) !== undefined) throw new FdtError(`duplicate property "${name}" in "${this.name || "/"}"`);
    this.props.push({ name, value: value.slice() });
    return this;
  }

  /** A property with no value (a boolean, such as `interrupt-controller`). */
  empty(name: string): this {
    return this.bytes(name, new Uint8Array(0));
  }

  /** One or more big-endian 32-bit cells. */
  u32(name: string, ...cells: readonly number[]): this {
    const b = new Uint8Array(cells.length * 4);
    const dv = new DataView(b.buffer);
    cells.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c > 0xffff_ffff) throw new FdtError(`${name}: ${c} is not a u32`);
      dv.setUint32(i * 4, c);
    });
    return this.bytes(name, b);
  }

  /** One or more big-endian 64-bit values (two cells each). */
  u64(name: string, ...values: readonly (bigint | number)[]): this {
    const b = new Uint8Array(values.length * 8);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => {
      const x = BigInt(v);
      if (x < 0n || x > 0xffff_ffff_ffff_ffffn) throw new FdtError(`${name}: ${x} is not a u64`);
      dv.setBigUint64(i * 8, x);
    });
    return this.bytes(name, b);
  }

  /** A NUL-terminated string. */
  string(name: string, value: string): this {
    return this.strings(name, [value]);
  }

  /** A string list: each string NUL-terminated, concatenated. */
  strings(name: string, values: readonly string[]): this {
    const parts = values.map((s) => {
      if (s.includes("\0")) throw new FdtError(`${name}: string contains NUL`);
      return encoder.encode(s);
    });
    const b = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
    let o = 0;
    for (const p of parts) {
      b.set(p, o);
      o += p.length + 1;
    }
    return this.bytes(name, b);
  }

  /** Set this node's `phandle` property. */
  phandle(value: number): this {
    if (!Number.isInteger(value) || value < 1 || value >= 0xffff_ffff) throw new FdtError(`bad phandle ${value}`);
    return this.u32("phandle", value);
  }

  /** A property read as big-endian 32-bit cells (undefined if absent or not a multiple of 4 bytes). */
  getU32s(name: string): number[] | undefined {
    const v = this.prop(name);
    if (v === undefined || v.length % 4 !== 0) return undefined;
    const dv = new DataView(v.buffer, v.byteOffset, v.length);
    return Array.from({ length: v.length / 4 }, (_, i) => dv.getUint32(i * 4));
  }

  /** A property read as a string list (undefined if absent or not NUL-terminated). */
  getStrings(name: string): string[] | undefined {
    const v = this.prop(name);
    if (v === undefined || v.length === 0 || v[v.length - 1] !== 0) return undefined;
    return decoder.decode(v.subarray(0, v.length - 1)).split("\0");
  }
}

/** A device tree under construction: the root node, the memory reservations, phandle allocation. */
export class Fdt {
  readonly root = new FdtNode("");
  readonly reservations: MemoryReservation[] = [];
  /** The physical id of the boot CPU (header field boot_cpuid_phys). */
  bootCpuid = 0;
  private nextPhandle = 1;

  /** The phandle of `node`, giving it the next unused number first if it has none. */
  phandle(node: FdtNode): number {
    const have = node.getU32s("phandle");
    if (have !== undefined) return have[0]!;
    const p = this.nextPhandle++;
    node.phandle(p);
    return p;
  }

  /** Reserve [address, address + size) in the memory reservation block. */
  reserve(address: bigint | number, size: bigint | number): void {
    const a = BigInt(address);
    const s = BigInt(size);
    if (a < 0n || s <= 0n || a + s > 1n << 64n) throw new FdtError(`bad reservation ${a}+${s}`);
    this.reservations.push({ address: a, size: s });
  }

  /** Serialise to a DTB. Throws FdtError if two nodes share a phandle. */
  build(): Uint8Array {
    const seen = new Set<number>();
    const check = (n: FdtNode): void => {
      const p = n.getU32s("phandle");
      if (p !== undefined) {
        if (seen.has(p[0]!)) throw new FdtError(`phandle ${p[0]} used twice`);
        seen.add(p[0]!);
      }
      for (const c of n.children) check(c);
    };
    check(this.root);

    // Strings block: each property name once.
    const stringOffsets = new Map<string, number>();
    const stringParts: Uint8Array[] = [];
    let stringsSize = 0;
    const nameOffset = (name: string): number => {
      let off = stringOffsets.get(name);
      if (off === undefined) {
        off = stringsSize;
        const b = encoder.encode(`${name}\0`);
        stringParts.push(b);
        stringsSize += b.length;
        stringOffsets.set(name, off);
      }
      return off;
    };

    // Structure block, as 32-bit words and padded byte runs.
    const struct: number[] = [];
    const pushBytes = (b: Uint8Array): void => {
      const padded = new Uint8Array((b.length + 3) & ~3);
      padded.set(b);
      const dv = new DataView(padded.buffer);
      for (let i = 0; i < padded.length; i += 4) struct.push(dv.getUint32(i));
    };
    const emit = (n: FdtNode): void => {
      struct.push(FDT_BEGIN_NODE);
      pushBytes(encoder.encode(`${n.name}\0`));
      for (const p of n.props) {
        struct.push(FDT_PROP, p.value.length, nameOffset(p.name));
        pushBytes(p.value);
      }
      for (const c of n.children) emit(c);
      struct.push(FDT_END_NODE);
    };
    emit(this.root);
    struct.push(FDT_END);

    const offRsvmap = HEADER_SIZE; // already 8-aligned
    const rsvSize = (this.reservations.length + 1) * 16;
    const offStruct = offRsvmap + rsvSize;
    const structSize = struct.length * 4;
    const offStrings = offStruct + structSize;
    const total = offStrings + stringsSize;
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer);
    const header = [
      FDT_MAGIC,
      total,
      offStruct,
      offStrings,
      offRsvmap,
      VERSION,
      LAST_COMP_VERSION,
      this.bootCpuid,
      stringsSize,
      structSize,
    ];
    for (let i = 0; i < header.length; i++) dv.setUint32(i * 4, header[i]!);
    this.reservations.forEach((r, i) => {
      dv.setBigUint64(offRsvmap + i * 16, r.address);
      dv.setBigUint64(offRsvmap + i * 16 + 8, r.size);
    });
    for (let i = 0; i < struct.length; i++) dv.setUint32(offStruct + i * 4, struct[i]!);
    let o = offStrings;
    for (const p of stringParts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** A DTB read back: its tree, reservations and boot CPU. */
export interface ParsedFdt {
  readonly root: FdtNode;
  readonly reservations: readonly MemoryReservation[];
  readonly bootCpuid: number;
  readonly version: number;
}

/** Read a DTB (version 16 or later). Throws FdtError if it is malformed. */
export function parseFdt(blob: Uint8Array): ParsedFdt {
  if (blob.length < HEADER_SIZE) throw new FdtError("DTB shorter than its header");
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.length);
  const h = (i: number): number => dv.getUint32(i * 4);
  if (h(0) !== FDT_MAGIC) throw new FdtError("bad DTB magic");
  const total = h(1);
  const offStruct = h(2);
  const offStrings = h(3);
  const offRsvmap = h(4);
  const version = h(5);
  if (version < 16 || h(6) > VERSION) throw new FdtError(`unsupported DTB version ${version}`);
  if (total > blob.length) throw new FdtError("DTB truncated");
  const stringsSize = version >= 17 ? h(8) : total - offStrings;
  const structSize = version >= 17 ? h(9) : total - offStruct;
  if (offStruct + structSize > total || offStrings + stringsSize > total || offRsvmap + 16 > total) {
    throw new FdtError("DTB blocks outside the blob");
  }

  const reservations: MemoryReservation[] = [];
  for (let o = offRsvmap; ; o += 16) {
    if (o + 16 > total) throw new FdtError("unterminated memory reservation block");
    const address = dv.getBigUint64(o);
    const size = dv.getBigUint64(o + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }

  const cstring = (start: number, end: number): [string, number] => {
    const nul = blob.indexOf(0, start);
    if (nul < 0 || nul >= end) throw new FdtError("unterminated string in DTB");
    return [decoder.decode(blob.subarray(start, nul)), nul + 1];
  };
  const structEnd = offStruct + structSize;
  let o = offStruct;
  const word = (): number => {
    if (o + 4 > structEnd) throw new FdtError("structure block ends early");
    const w = dv.getUint32(o);
    o += 4;
    return w;
  };
  let root: FdtNode | undefined;
  const stack: FdtNode[] = [];
  for (;;) {
    const token = word();
    if (token === FDT_NOP) continue;
    if (token === FDT_BEGIN_NODE) {
      const [name, next] = cstring(o, structEnd);
      o = (next + 3) & ~3;
      const parent = stack[stack.length - 1];
      if (parent === undefined && root !== undefined) throw new FdtError("more than one root node");
      // Names are taken as they are: a reader accepts what other tools wrote.
      const node = new FdtNode(name, false);
      parent?.children.push(node);
      root ??= node;
      stack.push(node);
    } else if (token === FDT_PROP) {
      const len = word();
      const nameoff = word();
      const node = stack[stack.length - 1];
      if (node === undefined || o + len > structEnd) throw new FdtError("property outside a node");
      const [name] = cstring(offStrings + nameoff, offStrings + stringsSize);
      node.props.push({ name, value: blob.slice(o, o + len) });
      o = (o + len + 3) & ~3;
    } else if (token === FDT_END_NODE) {
      if (stack.pop() === undefined) throw new FdtError("unbalanced FDT_END_NODE");
    } else if (token === FDT_END) {
      break;
    } else {
      throw new FdtError(`bad structure token ${token}`);
    }
  }
  if (root === undefined || stack.length !== 0) throw new FdtError("unbalanced nodes in DTB");
  return { root, reservations, bootCpuid: h(7), version };
}
