/**
 * SiFive test finisher ("sifive,test0", the virt board's syscon) at 0x0010_0000, as QEMU 7.2's hw/misc/sifive_test.c:
 * a write to offset 0 whose low 16 bits are 0x5555 powers off with success, 0x3333 powers off with failure code
 * bits 31..16, 0x7777 resets; anything else is ignored. Reads return 0. Linux reaches it through the device tree's
 * syscon-poweroff/syscon-reboot nodes, OpenSBI through its sifive_test driver (16-bit writes). 1-byte accesses,
 * which QEMU faults, are ignored.
 */
import type { MmioDevice } from "../mem/bus.ts";

/** Bytes the device occupies on the virt board. */
export const SYSCON_SIZE = 0x1000;
/** Status values written to offset 0 (QEMU's FINISHER_*). */
export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

/**
 * What the guest asked for. QEMU exits with status 0 for "pass" and `code` for "fail" (so a "fail" with code 0 is
 * also exit status 0), and resets the machine for "reset".
 */
export type SysconEvent =
  | { readonly kind: "pass" }
  | { readonly kind: "fail"; readonly code: number }
  | { readonly kind: "reset" };

export class Syscon implements MmioDevice {
  readonly name = "syscon";
  private readonly onEvent: (event: SysconEvent) => void;

  /** `onEvent` runs inside the guest's store; it should record the request and stop the run loop, not throw. */
  constructor(onEvent: (event: SysconEvent) => void) {
    this.onEvent = onEvent;
  }

  read(_offset: number, _size: 1 | 2 | 4): number {
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset !== 0 || size === 1) return;
    const status = value & 0xffff;
    if (status === FINISHER_PASS) this.onEvent({ kind: "pass" });
    else if (status === FINISHER_FAIL) this.onEvent({ kind: "fail", code: (value >>> 16) & 0xffff });
    else if (status === FINISHER_RESET) this.onEvent({ kind: "reset" });
  }
}
