/*
 * Physical memory protection (privileged spec 1.12 §3.7): with no entry, S and U can do nothing while M can do
 * everything; NA4, NAPOT and TOR regions with each R/W/X; the lowest-numbered matching entry decides, and must
 * match every byte of the access; unlocked entries do not restrict M, locked ones do and ignore writes (also to the
 * pmpaddr below a locked TOR entry); MPRV accesses are checked as MPP; page-table walks are checked as S-mode
 * accesses and fail with the access fault of the original access; a denied physical address under translation
 * reports the virtual address. The locks stay until reset, so they come last. Entry 15 (NAPOT, everything, RWX)
 * lets S and U run everywhere the lower entries do not say otherwise.
 */
#include "priv.h"

/*
 * pmp_area layout: a 32 KiB block, an ecall at every multiple of 0x100, else dword 0x5000_0000_0000_0000 + offset;
 * except that addi a0, a0, 1 straddles +0x2ffe/+0x3000 and +0x4ffe/+0x5000, an ecall following it at +0x3002/+0x5002.
 */
#define AREA_WORD(off) (0x5000000000000000 + (off))

/* CFG(entry, bits): the byte of entry `entry` (0-7) in pmpcfg0, or (8-15) in pmpcfg2. */
#define CFG(n, bits) ((bits) << (8 * ((n) & 7)))
#define OPEN_15 CFG(15, PMP_NAPOT | PMP_R | PMP_W | PMP_X)

/* SET_PMPADDR n, sym, off, napot_size: pmpaddr<n> = (sym + off) >> 2, NAPOT-encoded if size > 0. Clobbers t0, t1. */
.macro SET_PMPADDR n:req, sym:req, off:req, size=0
  la t0, \sym + \off
  srli t0, t0, 2
  .if \size
  ori t0, t0, (\size / 8) - 1
  .endif
  csrw pmpaddr\n, t0
.endm

/*
 * PEXPECT "name", mode, snippet, off, cause[, want]: run `snippet` in `mode` with a2 = pmp_area + off. On success
 * (ecall from mode) a load snippet must have read `want`; on an access fault mtval must be that address (and for a
 * fetch, mepc too). Clobbers s2.
 */
.macro PEXPECT name:req, mode:req, snippet:req, off:req, cause:req, want
  la a2, pmp_area + \off
  mv s2, a2
  li a3, 0x77
  RUN \mode, \snippet
  CHECK "\name", a0, \cause
  .ifnb \want
  SNAP t1, 10
  CHECK "\name: value", t1, \want
  .endif
  .if (\cause == CAUSE_LOAD_ACCESS) || (\cause == CAUSE_STORE_ACCESS) || (\cause == CAUSE_FETCH_ACCESS)
  CHECK_REC_REG "\name: mtval", m_rec, REC_TVAL, s2
  .endif
  .if \cause == CAUSE_FETCH_ACCESS
  CHECK_REC_REG "\name: mepc", m_rec, REC_EPC, s2
  .endif
.endm

/* MLOAD "name", off, cause: lw in M from pmp_area + off; cause 0 = no trap. Clobbers t1, t2. */
.macro MLOAD name:req, off:req, cause:req
  CLEAR_RECS
  la t2, pmp_area + \off
  lw t1, 0(t2)
  .if \cause
  CHECK_REC "\name", m_rec, REC_CAUSE, \cause
  CHECK_REC_REG "\name: mtval", m_rec, REC_TVAL, t2
  .else
  CHECK_REC "\name", m_rec, REC_COUNT, 0
  .endif
.endm

/* MSTORE "name", off, cause: sw in M to pmp_area + off (the value already there); cause 0 = no trap. */
.macro MSTORE name:req, off:req, cause:req
  CLEAR_RECS
  la t2, pmp_area + \off
  lw t1, 0(t2)
  sw t1, 0(t2)
  .if \cause
  CHECK_REC "\name", m_rec, REC_CAUSE, \cause
  CHECK_REC_REG "\name: mtval", m_rec, REC_TVAL, t2
  .else
  CHECK_REC "\name", m_rec, REC_COUNT, 0
  .endif
.endm

#define OK_S CAUSE_SUPERVISOR_ECALL
#define OK_U CAUSE_USER_ECALL

  .text
  .balign 4
snip_ecall:
  ecall
snip_lw:
  li a0, 0
  lw a0, 0(a2)
  ecall
snip_sw:
  sw a3, 0(a2)
  ecall
snip_ld:
  li a0, 0
  ld a0, 0(a2)
  ecall
snip_jr:
  jr a2
snip_straddle:
  li a0, 100
  jr a2

TEST_BEGIN
  call priv_init

  /* ==== no PMP entry at all: S and U fail every access, M none (§3.7.1) ==== */
  csrw pmpcfg0, zero
  csrw pmpcfg2, zero
  RUN PRV_S, snip_ecall
  CHECK "no PMP entry: S cannot fetch", a0, CAUSE_FETCH_ACCESS
  CHECK_REC_ADDR "no PMP entry: S fetch fault mepc", m_rec, REC_EPC, snip_ecall
  CHECK_REC_ADDR "no PMP entry: S fetch fault mtval", m_rec, REC_TVAL, snip_ecall
  RUN PRV_U, snip_ecall
  CHECK "no PMP entry: U cannot fetch", a0, CAUSE_FETCH_ACCESS
  MLOAD "no PMP entry: M loads", 8, 0
  MSTORE "no PMP entry: M stores", 8, 0

  /* ==== the regions ==== */
  SET_PMPADDR 0, pmp_area, 8                    /* NA4 +8..+11: R */
  SET_PMPADDR 1, pmp_area, 0x100, 0x100         /* NAPOT +0x100..+0x1ff: nothing */
  SET_PMPADDR 2, pmp_area, 0x200                /* TOR [+0x200, +0x300): RW */
  SET_PMPADDR 3, pmp_area, 0x300
  SET_PMPADDR 4, pmp_area, 0x1000, 0x1000       /* NAPOT page +0x1000: RW */
  SET_PMPADDR 5, pmp_area, 0x2000, 0x1000       /* NAPOT page +0x2000: X */
  SET_PMPADDR 6, pmp_area, 0x2000, 0x2000       /* NAPOT +0x2000..+0x3fff: RWX (loses to entry 5) */
  SET_PMPADDR 7, pmp_area, 0x4000, 0x1000       /* NAPOT page +0x4000: X */
  li t0, -1
  srli t0, t0, 10
  csrw pmpaddr15, t0                            /* NAPOT everything */
  li t0, CFG(0, PMP_NA4 | PMP_R) | CFG(1, PMP_NAPOT) | CFG(3, PMP_TOR | PMP_R | PMP_W) | CFG(4, PMP_NAPOT | PMP_R | PMP_W) | CFG(5, PMP_NAPOT | PMP_X) | CFG(6, PMP_NAPOT | PMP_R | PMP_W | PMP_X) | CFG(7, PMP_NAPOT | PMP_X)
  csrw pmpcfg0, t0
  SET_PMPADDR 8, pmp_area, 0x5000, 0x1000       /* NAPOT page +0x5000: R */
  li t0, CFG(8, PMP_NAPOT | PMP_R) | OPEN_15
  csrw pmpcfg2, t0
  csrr t1, pmpcfg0
  li t2, CFG(0, PMP_NA4 | PMP_R) | CFG(1, PMP_NAPOT) | CFG(3, PMP_TOR | PMP_R | PMP_W) | CFG(4, PMP_NAPOT | PMP_R | PMP_W) | CFG(5, PMP_NAPOT | PMP_X) | CFG(6, PMP_NAPOT | PMP_R | PMP_W | PMP_X) | CFG(7, PMP_NAPOT | PMP_X)
  CHECK_REGS "pmpcfg0 reads back", t1, t2
  csrr t1, pmpaddr1
  la t2, pmp_area + 0x100
  srli t2, t2, 2
  ori t2, t2, 0x1f
  CHECK_REGS "pmpaddr1 (NAPOT) reads back", t1, t2
  RUN PRV_S, snip_ecall
  CHECK "entry 15 open: S runs", a0, OK_S

  /* NA4 */
  PEXPECT "NA4 R: S lw", PRV_S, snip_lw, 8, OK_S, 8
  PEXPECT "NA4 R: U lw", PRV_U, snip_lw, 8, OK_U, 8
  PEXPECT "NA4 R: S sw (lowest entry wins over entry 15)", PRV_S, snip_sw, 8, CAUSE_STORE_ACCESS
  PEXPECT "NA4 R: U sw", PRV_U, snip_sw, 8, CAUSE_STORE_ACCESS
  PEXPECT "NA4: S ld covering it and 4 more bytes (partial match fails)", PRV_S, snip_ld, 8, CAUSE_LOAD_ACCESS
  PEXPECT "next to NA4: S lw +12 (entry 15)", PRV_S, snip_lw, 12, OK_S, 0x50000000
  PEXPECT "next to NA4: S sw +12 (entry 15)", PRV_S, snip_sw, 12, OK_S
  PEXPECT "before NA4: S ld +0x10 (entry 15)", PRV_S, snip_ld, 0x10, OK_S, AREA_WORD(0x10)
  MSTORE "NA4 R, unlocked: M stores", 8, 0

  /* NAPOT without permissions */
  PEXPECT "NAPOT none: S lw first word", PRV_S, snip_lw, 0x100, CAUSE_LOAD_ACCESS
  PEXPECT "NAPOT none: S lw last word", PRV_S, snip_lw, 0x1fc, CAUSE_LOAD_ACCESS
  PEXPECT "NAPOT none: U sw", PRV_U, snip_sw, 0x180, CAUSE_STORE_ACCESS
  PEXPECT "NAPOT none: S fetch", PRV_S, snip_jr, 0x100, CAUSE_FETCH_ACCESS
  PEXPECT "below NAPOT: S ld +0xf8", PRV_S, snip_ld, 0xf8, OK_S, AREA_WORD(0xf8)
  PEXPECT "above NAPOT: S lw +0x208 (TOR)", PRV_S, snip_lw, 0x208, OK_S, 0x208
  MLOAD "NAPOT none, unlocked: M loads", 0x100, 0

  /* TOR */
  PEXPECT "TOR RW: S lw bottom", PRV_S, snip_lw, 0x200 + 8, OK_S, 0x208
  PEXPECT "TOR RW: S sw top word", PRV_S, snip_sw, 0x2fc, OK_S
  PEXPECT "TOR RW: U ld", PRV_U, snip_ld, 0x2e8, OK_U, AREA_WORD(0x2e8)
  PEXPECT "TOR RW: S fetch (no X)", PRV_S, snip_jr, 0x200, CAUSE_FETCH_ACCESS
  PEXPECT "TOR top is exclusive: S fetch +0x300 (entry 15)", PRV_S, snip_jr, 0x300, OK_S

  /* X and R/W separately */
  PEXPECT "NAPOT RW page: S fetch", PRV_S, snip_jr, 0x1000, CAUSE_FETCH_ACCESS
  PEXPECT "NAPOT RW page: U fetch", PRV_U, snip_jr, 0x1100, CAUSE_FETCH_ACCESS
  PEXPECT "NAPOT RW page: S ld", PRV_S, snip_ld, 0x1008, OK_S, AREA_WORD(0x1008)
  PEXPECT "NAPOT X page: S fetch", PRV_S, snip_jr, 0x2000, OK_S
  PEXPECT "NAPOT X page: U fetch", PRV_U, snip_jr, 0x2f00, OK_U
  PEXPECT "NAPOT X page: S lw (entry 5 wins over entry 6)", PRV_S, snip_lw, 0x2008, CAUSE_LOAD_ACCESS
  PEXPECT "NAPOT X page: S sw", PRV_S, snip_sw, 0x2008, CAUSE_STORE_ACCESS
  PEXPECT "entry 6 beyond entry 5: S lw +0x3008", PRV_S, snip_lw, 0x3008, OK_S, 0x3008
  PEXPECT "entry 6 beyond entry 5: S sw +0x3008", PRV_S, snip_sw, 0x3008, OK_S

  /* a 4-byte instruction straddling two regions: fetched only if both halves may be executed */
  la a2, pmp_area + 0x2ffe
  RUN PRV_S, snip_straddle
  CHECK "straddling X (entry 5) into RWX (entry 6): runs", a0, OK_S
  SNAP t1, 10
  CHECK "straddling X into RWX: addi ran", t1, 101
  la t0, pmp_area + 0x3002
  CHECK_REC_REG "straddling X into RWX: the ecall after it", m_rec, REC_EPC, t0
  la a2, pmp_area + 0x4ffe
  mv s2, a2
  RUN PRV_S, snip_straddle
  CHECK "straddling X (entry 7) into R (entry 8): fetch access fault", a0, CAUSE_FETCH_ACCESS
  CHECK_REC_REG "straddling X into R: mepc = the instruction", m_rec, REC_EPC, s2
  la t0, pmp_area + 0x5000
  CHECK_REC_REG "straddling X into R: mtval = the denied half", m_rec, REC_TVAL, t0
  SNAP t1, 10
  CHECK "straddling X into R: not executed", t1, 100

  /* entry 15 off: nothing matches the code any more */
  li t0, CFG(8, PMP_NAPOT | PMP_R)
  csrw pmpcfg2, t0
  RUN PRV_S, snip_ecall
  CHECK "only unrelated entries: S cannot fetch its code", a0, CAUSE_FETCH_ACCESS
  li t0, CFG(8, PMP_NAPOT | PMP_R) | OPEN_15
  csrw pmpcfg2, t0

  /* ==== MPRV: M's loads and stores are checked as MPP's ==== */
  CLEAR_MSTATUS MSTATUS_MPP
  CLEAR_RECS
  la t2, pmp_area + 0x100
  SET_MSTATUS MSTATUS_MPRV
  lw t1, 0(t2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_REC "MPRV, MPP=U: M lw from the NAPOT-none region", m_rec, REC_CAUSE, CAUSE_LOAD_ACCESS
  CHECK_REC_REG "MPRV, MPP=U: mtval", m_rec, REC_TVAL, t2
  SET_MSTATUS MSTATUS_MPP
  CLEAR_RECS
  SET_MSTATUS MSTATUS_MPRV
  lw t1, 0(t2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_REC "MPRV, MPP=M: M lw from the NAPOT-none region", m_rec, REC_COUNT, 0
  CLEAR_MSTATUS MSTATUS_MPP

  /* ==== PMP under translation: the final physical address, and the page-table walk ==== */
  call pt_reset
  call pt_alloc
  mv s4, a0                 /* Sv39 root */
  mv a0, s4
  li a1, 0x80000000
  li a2, 0x80000000
  li a3, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  li a4, 2
  li a5, 2
  call pt_map
  mv a0, s4
  li a1, 0x10000000
  la a2, pmp_area
  li a3, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  li a4, 0
  li a5, 2
  call pt_map
  srli t0, s4, 12
  li t1, SATP_SV39
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  /* VA 0x1000_0000 maps pmp_area: +0x108 lies in the NAPOT region without permissions, +0x208 in the TOR RW one */
  li a2, 0x10000000 + 0x208
  RUN PRV_S, snip_lw
  CHECK "translated to a TOR RW address: S lw", a0, OK_S
  SNAP t1, 10
  CHECK "translated to a TOR RW address: value", t1, 0x208
  li a2, 0x10000000 + 0x108
  li a3, 0x77
  RUN PRV_S, snip_lw
  CHECK "translated to a NAPOT-none address: load access fault", a0, CAUSE_LOAD_ACCESS
  CHECK_REC "translated: mtval = the virtual address", m_rec, REC_TVAL, 0x10000000 + 0x108
  li a2, 0x10000000 + 0x108
  RUN PRV_S, snip_sw
  CHECK "translated to a NAPOT-none address: store access fault", a0, CAUSE_STORE_ACCESS
  CHECK_REC "translated store: mtval = the virtual address", m_rec, REC_TVAL, 0x10000000 + 0x108
  li a2, 0x10000000 + 0x100
  RUN PRV_S, snip_jr
  CHECK "translated to a NAPOT-none address: fetch access fault", a0, CAUSE_FETCH_ACCESS
  CHECK_REC "translated fetch: mtval = the virtual address", m_rec, REC_TVAL, 0x10000000 + 0x100
  /* the page tables themselves made inaccessible (TOR over the pool, entry 13): walks fail as access faults */
  SET_PMPADDR 12, pt_pool, 0
  SET_PMPADDR 13, pt_pool_end, 0
  li t0, CFG(13, PMP_TOR) | OPEN_15
  csrw pmpcfg2, t0
  sfence.vma
  RUN PRV_S, snip_ecall
  CHECK "page tables PMP-denied: S fetch is a fetch access fault", a0, CAUSE_FETCH_ACCESS
  CHECK_REC_ADDR "page tables PMP-denied: mtval = the fetched VA", m_rec, REC_TVAL, snip_ecall
  la s2, pmp_area + 0x2008
  SET_MSTATUS MSTATUS_MPP_S
  CLEAR_RECS
  SET_MSTATUS MSTATUS_MPRV
  lw t1, 0(s2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_REC "page tables PMP-denied: MPRV=S load is a load access fault", m_rec, REC_CAUSE, CAUSE_LOAD_ACCESS
  CHECK_REC_REG "page tables PMP-denied: load mtval = VA", m_rec, REC_TVAL, s2
  SET_MSTATUS MSTATUS_MPP_S
  CLEAR_RECS
  SET_MSTATUS MSTATUS_MPRV
  sw zero, 0(s2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_REC "page tables PMP-denied: MPRV=S store is a store access fault", m_rec, REC_CAUSE, CAUSE_STORE_ACCESS
  CLEAR_MSTATUS MSTATUS_MPP
  li t0, OPEN_15
  csrw pmpcfg2, t0
  csrw satp, zero
  sfence.vma

  /* ==== WARL details ==== */
  li t0, -1
  csrw pmpaddr14, t0
  csrr t1, pmpaddr14
  /* bits 53:0 hold address[55:2], all writable here (grain G = 0); bits 63:54 are WIRI in the 1.11 text: not read */
  CHECK_MASKED "pmpaddr: address bits 55:2 all writable (4-byte grain)", t1, 0x003fffffffffffff, 0x003fffffffffffff
  csrw pmpaddr14, zero
  CLEAR_RECS
.Lpmpcfg1:
  csrr t1, pmpcfg1
  CHECK_REC "pmpcfg1 does not exist on RV64", m_rec, REC_CAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC "pmpcfg1: mtval = the instruction", m_rec, REC_TVAL, 0x3a102373

  /* ==== locks: they bind M and survive writes (§3.7.1.2) ==== */
  SET_PMPADDR 9, pmp_area, 0x500                /* TOR [+0x500, +0x600): R, locked */
  SET_PMPADDR 10, pmp_area, 0x600
  SET_PMPADDR 11, pmp_area, 0x400               /* NA4 +0x400: R, locked */
  li t0, CFG(10, PMP_L | PMP_TOR | PMP_R) | CFG(11, PMP_L | PMP_NA4 | PMP_R) | OPEN_15
  csrw pmpcfg2, t0
  MLOAD "locked NA4 R: M lw", 0x400, 0
  MSTORE "locked NA4 R: M sw", 0x400, CAUSE_STORE_ACCESS
  MSTORE "next to the locked NA4: M sw +0x404", 0x404, 0
  MLOAD "locked TOR R: M lw", 0x500, 0
  MSTORE "locked TOR R: M sw", 0x5fc, CAUSE_STORE_ACCESS
  MSTORE "above the locked TOR: M sw +0x600", 0x600, 0
  PEXPECT "locked TOR R: S lw", PRV_S, snip_lw, 0x508, OK_S, 0x508
  PEXPECT "locked TOR R: S sw", PRV_S, snip_sw, 0x508, CAUSE_STORE_ACCESS
  PEXPECT "locked TOR R: S fetch", PRV_S, snip_jr, 0x500, CAUSE_FETCH_ACCESS
  /* writes to locked entries are ignored; so are writes to the pmpaddr below a locked TOR entry */
  csrr s5, pmpaddr11
  li t0, 0x1234
  csrw pmpaddr11, t0
  csrr t1, pmpaddr11
  CHECK_REGS "locked: pmpaddr11 write ignored", t1, s5
  csrr s5, pmpaddr9
  li t0, 0x1234
  csrw pmpaddr9, t0
  csrr t1, pmpaddr9
  CHECK_REGS "locked TOR 10: pmpaddr9 write ignored", t1, s5
  li t0, CFG(9, PMP_NAPOT | PMP_R)
  csrw pmpcfg2, t0
  csrr t1, pmpcfg2
  CHECK "pmpcfg2 write: locked bytes kept, the others written", t1, CFG(9, PMP_NAPOT | PMP_R) | CFG(10, PMP_L | PMP_TOR | PMP_R) | CFG(11, PMP_L | PMP_NA4 | PMP_R)
  MSTORE "locks still bind M after the write", 0x400, CAUSE_STORE_ACCESS
TEST_END

  .section .text.pages, "ax", @progbits
  .balign 32768
pmp_area:
  .set .Loff, 0
  .rept 4096
  .if (.Loff == 0x2ff8) || (.Loff == 0x4ff8)
  .hword 0, 0, 0, 0x0513    /* low half of addi a0, a0, 1 ... */
  .elseif (.Loff == 0x3000) || (.Loff == 0x5000)
  .hword 0x0015, 0x0073, 0x0000, 0 /* ... its high half, then ecall */
  .elseif (.Loff & 0xff) == 0
  .word 0x00000073, 0       /* ecall */
  .else
  .dword 0x5000000000000000 + .Loff
  .endif
  .set .Loff, .Loff + 8
  .endr
