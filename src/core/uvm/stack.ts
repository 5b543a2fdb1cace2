/**
 * The initial process stack exactly as Linux builds it (fs/exec.c copy_strings, fs/binfmt_elf.c create_elf_tables,
 * Linux 6.1, no randomisation): from the top, 8 zero bytes, the exec file name, the environment strings, the argument
 * strings; below them (16-byte aligned) the 16 AT_RANDOM bytes; then, 16-byte aligned, argc, argv[], NULL, envp[],
 * NULL and the auxiliary vector ending in AT_NULL. The result is the bytes to copy to [base, top) and the initial sp.
 */
import { AT } from "./abi.ts";

export interface StackInput {
  /** Address just past the stack (the VMA's end). */
  readonly top: number;
  readonly argv: readonly Uint8Array[];
  readonly envp: readonly Uint8Array[];
  /** The file name given to execve (AT_EXECFN points at a copy of it). */
  readonly execfn: Uint8Array;
  /** The 16 bytes AT_RANDOM points at. */
  readonly random: Uint8Array;
  /** Auxiliary vector entries in order, without AT_RANDOM, AT_EXECFN and AT_NULL (added here, as Linux orders them). */
  readonly auxv: readonly (readonly [number, number])[];
}

export interface StackImage {
  /** Lowest address written; `bytes` goes at [base, top). */
  readonly base: number;
  readonly bytes: Uint8Array;
  /** Initial stack pointer (points at argc). */
  readonly sp: number;
  /** Addresses of the argv and envp pointer arrays and of the auxv (for tests and --strace). */
  readonly argvAt: number;
  readonly envpAt: number;
  readonly auxvAt: number;
}

/** Lay out the initial stack. Throws RangeError if the strings do not fit in `limit` bytes (E2BIG). */
export function buildStack(input: StackInput, limit = 2 * 1024 * 1024): StackImage {
  const top = input.top;
  let p = top - 8;
  const place = (s: Uint8Array): number => {
    p -= s.length + 1;
    return p;
  };
  const execfnAt = place(input.execfn);
  const envAt: number[] = [];
  for (let i = input.envp.length - 1; i >= 0; i--) envAt[i] = place(input.envp[i]!);
  const argAt: number[] = [];
  for (let i = input.argv.length - 1; i >= 0; i--) argAt[i] = place(input.argv[i]!);
  const strings = p;
  // arch_align_stack: 16-byte alignment (randomisation off).
  p -= p % 16;
  p -= 16;
  const randomAt = p;
  // Auxiliary vector: Linux's order, with AT_RANDOM and AT_HWCAP2 (if given) before AT_EXECFN.
  const aux: (readonly [number, number])[] = [];
  let randomDone = false;
  for (const e of input.auxv) {
    if (e[0] === AT.HWCAP2 && !randomDone) {
      aux.push([AT.RANDOM, randomAt]);
      randomDone = true;
    }
    aux.push(e);
  }
  if (!randomDone) aux.push([AT.RANDOM, randomAt]);
  aux.push([AT.EXECFN, execfnAt]);
  aux.push([AT.NULL, 0]);
  const items = 1 + input.argv.length + 1 + input.envp.length + 1;
  let sp = p - aux.length * 16;
  sp = sp - items * 8;
  sp -= ((sp % 16) + 16) % 16;
  if (top - sp > limit) throw new RangeError("argument list too long");
  const bytes = new Uint8Array(top - sp);
  const dv = new DataView(bytes.buffer);
  const at = (addr: number) => addr - sp;
  const enc = (addr: number, s: Uint8Array) => {
    bytes.set(s, at(addr));
    bytes[at(addr) + s.length] = 0;
  };
  enc(execfnAt, input.execfn);
  for (let i = 0; i < input.envp.length; i++) enc(envAt[i]!, input.envp[i]!);
  for (let i = 0; i < input.argv.length; i++) enc(argAt[i]!, input.argv[i]!);
  bytes.set(input.random.subarray(0, 16), at(randomAt));
  let w = sp;
  const put = (v: number) => {
    dv.setBigUint64(at(w), BigInt(v), true);
    w += 8;
  };
  put(input.argv.length);
  const argvAt = w;
  for (const a of argAt) put(a);
  put(0);
  const envpAt = w;
  for (const e of envAt) put(e);
  put(0);
  const auxvAt = w;
  for (const [k, v] of aux) {
    put(k);
    put(v);
  }
  void strings;
  return { base: sp, bytes, sp, argvAt, envpAt, auxvAt };
}
