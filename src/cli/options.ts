/**
 * Option values for the `popek` command: sizes (`128M`, `1G`) and counts, parsed strictly into numbers; QEMU-style
 * parameter lists (`file=a,,b,readonly=on`) for --drive, --share and --net; and the error type for a usage problem the
 * user can fix (printed as one `popek: …` line, exit code 2).
 */

/** A host-side problem the user can fix: a bad option, a missing or unloadable file. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

const KiB = 1024;
const UNITS: Record<string, number> = { "": 1, K: KiB, M: KiB ** 2, G: KiB ** 3 };
/** Guest RAM is mapped in 4 KiB pages. */
export const MEM_GRANULE = 4 * KiB;
/** RAM and hart state share one wasm32 memory (at most 4 GiB); 2 GiB leaves headroom until the machine says more. */
export const MAX_MEM = 2 * KiB ** 3;

/** Parse a byte size such as `128M`, `1G`, `512KiB` or `65536` (binary units); `option` names it in errors. */
export function parseSize(text: string, option: string): number {
  const m = /^(\d+)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  if (!m)
    throw new CliError(`${option} ${text}: not a size; use a number with an optional K, M or G suffix, e.g. 128M`);
  const bytes = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (bytes === 0 || bytes % MEM_GRANULE !== 0)
    throw new CliError(`${option} ${text}: must be a positive multiple of 4K`);
  if (bytes > MAX_MEM) throw new CliError(`${option} ${text}: at most ${MAX_MEM / KiB ** 3}G is supported`);
  return bytes;
}

/** Parse a positive integer count such as `1000000` or `1_000_000`; `option` names it in errors. */
export function parseCount(text: string, option: string): number {
  if (!/^\d[\d_]*$/.test(text.trim())) throw new CliError(`${option} ${text}: not a whole number`);
  const n = Number(text.trim().replaceAll("_", ""));
  if (n < 1 || !Number.isSafeInteger(n)) throw new CliError(`${option} ${text}: must be between 1 and 2^53 - 1`);
  return n;
}

/** Split a QEMU-style parameter list at single commas; `,,` is a literal comma (as in QEMU's option syntax). */
export function splitParams(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ",") {
      if (text[i + 1] === ",") {
        cur += ",";
        i++;
        continue;
      }
      out.push(cur);
      cur = "";
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** Split one `key=value` parameter; `where` names the option in errors, `usage` (if given) is appended to them. */
export function keyValue(param: string, where: string, usage?: string): [string, string] {
  const i = param.indexOf("=");
  if (i <= 0) {
    const why = param === "" ? "empty parameter" : `${param} needs a value (${param}=…)`;
    throw new CliError(`${where}: ${why}${usage === undefined ? "" : `; use ${usage}`}`);
  }
  return [param.slice(0, i), param.slice(i + 1)];
}

/** A boolean parameter value as QEMU takes it: on/yes/true or off/no/false; `what` names it in errors. */
export function onOff(value: string, what: string): boolean {
  if (value === "on" || value === "yes" || value === "true") return true;
  if (value === "off" || value === "no" || value === "false") return false;
  throw new CliError(`${what}=${value}: use on or off`);
}
