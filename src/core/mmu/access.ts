/**
 * Facts shared by the MMU modules (walk, TLB, PMP): access types, permission masks and the fault cause of each access
 * type (privileged spec 1.12 table 3.6). Results of translation are numbers: a non-negative value is an address, a
 * negative value is minus an exception cause (causes 1, 5, 7, 12, 13, 15 are never zero), so nothing allocates.
 */
import { Cause } from "../isa/csr.ts";

/** Access types, also the field index of each in a TLB entry. */
export const Access = { Fetch: 0, Load: 1, Store: 2 } as const;
export type AccessType = 0 | 1 | 2;

/** Permission masks used across mmu/: bit `1 << access`. */
export const Perm = { Fetch: 1, Load: 2, Store: 4, All: 7 } as const;

/** Page-fault cause of each access type (12, 13, 15). */
export const PAGE_FAULT: readonly number[] = [
  Cause.InstructionPageFault,
  Cause.LoadPageFault,
  Cause.StorePageFault,
] as const;

/** Access-fault cause of each access type (1, 5, 7). */
export const ACCESS_FAULT: readonly number[] = [
  Cause.InstructionAccessFault,
  Cause.LoadAccessFault,
  Cause.StoreAccessFault,
] as const;

/** Privilege levels (mstatus.MPP encoding). */
export const PRV_U = 0;
export const PRV_S = 1;
export const PRV_M = 3;
