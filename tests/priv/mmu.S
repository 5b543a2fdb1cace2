/*
 * Virtual memory (privileged spec 1.12 §4.1.11, §4.2.1, §4.3, §4.4, §4.5, §3.1.6.3): page tables built here, S and U
 * running through them (entered by mret with satp set), loads, stores and fetches through 4 KiB pages and 2 MiB /
 * 1 GiB (Sv48: 512 GiB) superpages, misaligned superpages, every R/W/X combination (W without R reserved), U with
 * SUM, MXR, hardware A/D updates read back from the PTEs, V=0 and reserved PTE bits, non-canonical addresses, exact
 * causes and stval for each access type, an instruction straddling two pages, loads crossing pages, MPRV from M,
 * sfence.vma after PTE changes, ASIDs, and page faults delegated to S. Built twice: Sv39, and Sv48 with -DSV48.
 *
 * Layout: the program's 1 GiB at 0x8000_0000 is identity-mapped for S (RWX, A, D, not U) and aliased for U at
 * VA + U_ALIAS; test mappings live below 0x8000_0000 and at high addresses. M runs untranslated throughout.
 */
#include "priv.h"

#ifdef SV48
#define ROOT_LEVEL 3
#define SATP_MODE SATP_SV48
#else
#define ROOT_LEVEL 2
#define SATP_MODE SATP_SV39
#endif

#define U_ALIAS 0x100000000
#define PROBE_DATA_B 0x99aabbccddeeff00
#define LEAF_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

/* Test virtual addresses. */
#define VA_BASIC 0x10000000
#define VA_PERM 0x10010000        /* + xwr * 0x1000, + 0x8000 for the U pages */
#define VA_RSVD 0x10020000        /* + n * 0x1000: V=0, reserved bits */
#define VA_AD 0x10030000          /* + n * 0x1000: A/D tests */
#define VA_STRADDLE 0x10040000    /* and + 0x1000 */
#define VA_CROSS 0x10050000       /* and + 0x1000 */
#define VA_SFENCE 0x10060000
#define VA_ASID 0x10070000
#define VA_MPRV 0x10080000        /* + n * 0x1000 */
#define VA_UNMAPPED 0x100f0000
#define VA_MEGA 0x20000000        /* 2 MiB page -> 0x8000_0000 */
#define VA_MEGA_BAD 0x20200000    /* 2 MiB page -> 0x8000_1000: misaligned */
#define VA_MEGA_AD 0x20400000     /* 2 MiB page -> 0x8000_0000, A = 0 */
#define VA_GIGA 0x40000000        /* 1 GiB page -> 0x8000_0000 */
#define VA_GIGA_BAD 0xc0000000    /* 1 GiB page -> 0x8020_0000: misaligned */
#define VA_TERA 0x8000000000      /* Sv48: 512 GiB page -> 0; Sv39: non-canonical */
#define VA_TERA_BAD 0x10000000000 /* Sv48: 512 GiB page -> 0x4000_0000: misaligned */
#define VA_BIT38 0x4000000000     /* Sv39: non-canonical; Sv48: canonical */
#define VA_BIT47 0x800000000000   /* non-canonical in both */
#define VA_TOP 0xfffffffffffff000 /* canonical in both: the last page */
#define VA_SIGN 0x8000000000000000
#define VA_HIGH 0xffffffffffe00000 /* a 2 MiB alias of the program at the top of the address space */
#define VA_MEGA2 0x20600000       /* 2 MiB page -> 0x8000_0000, for sfence.vma of a superpage */
#ifdef SV48
#define VA_EDGE 0x7ffffffff000    /* the last page below the non-canonical hole */
#else
#define VA_EDGE 0x3ffffff000
#endif

/* MAP va, sym, flags, level: map va -> the address of sym; a0 = the leaf PTE's address. Clobbers a0-a5, t0-t3. */
.macro MAP va:req, sym:req, flags:req, level=0
  la a0, cur_root
  ld a0, 0(a0)
  li a1, \va
  la a2, \sym
  li a3, \flags
  li a4, \level
  li a5, ROOT_LEVEL
  call pt_map
.endm

/* MAP_PA va, pa, flags, level: as MAP with a constant physical address. */
.macro MAP_PA va:req, pa:req, flags:req, level=0
  la a0, cur_root
  ld a0, 0(a0)
  li a1, \va
  li a2, \pa
  li a3, \flags
  li a4, \level
  li a5, ROOT_LEVEL
  call pt_map
.endm

/*
 * EXPECT "name", mode, kind, cause[, want]: sfence.vma, then probe the VA in a2 (kept in s2) with a load, store or
 * fetch from `mode`. On success (cause = ecall from mode) a load must return `want` and a fetch must have run the
 * ecall at va; on a fault, mtval must be the faulting address (and for a fetch, mepc = va). Clobbers s2, s3.
 */
.macro EXPECT name:req, mode:req, kind:req, cause:req, want=PROBE_DATA, fence=1
  mv s2, a2
  .if \fence
  sfence.vma
  .endif
  li a0, \mode
  li a1, \kind
  call probe
  CHECK "\name", a0, \cause
  .if (\cause == CAUSE_USER_ECALL) || (\cause == CAUSE_SUPERVISOR_ECALL)
  .if \kind == PROBE_LOAD
  CHECK "\name: value", a2, \want
  .endif
  .if \kind == PROBE_FETCH
  CHECK_REGS "\name: mepc = va", a3, s2
  .endif
  .else
  .if \kind == PROBE_LOAD
  addi s3, s2, 8
  .elseif \kind == PROBE_STORE
  addi s3, s2, 16
  .else
  mv s3, s2
  CHECK_REGS "\name: mepc = va", a3, s2
  .endif
  CHECK_REGS "\name: mtval = va", a1, s3
  .endif
.endm

/* EXPECT_AT "name", va, mode, kind, cause[, want]: EXPECT with a constant va. */
.macro EXPECT_AT name:req, va:req, mode:req, kind:req, cause:req, want=PROBE_DATA
  li a2, \va
  EXPECT "\name", \mode, \kind, \cause, \want
.endm

/* EXPECT_NF: EXPECT_AT without the sfence.vma (what the TLB may hold must not matter). */
.macro EXPECT_NF name:req, va:req, mode:req, kind:req, cause:req, want=PROBE_DATA
  li a2, \va
  EXPECT "\name", \mode, \kind, \cause, \want, 0
.endm

/* ATOMIC "name", snippet, va, cause: run an atomic snippet in S on va (a3 = 1); check the cause and, on a fault, mtval. */
.macro ATOMIC name:req, snippet:req, va:req, cause:req
  li a2, \va
  li a3, 1
  sfence.vma
  RUN PRV_S, \snippet
  CHECK "\name", a0, \cause
  .if \cause != CAUSE_SUPERVISOR_ECALL
  CHECK_REC "\name: mtval", m_rec, REC_TVAL, \va
  .endif
.endm

/* EXPECT_SYM "name", base, sym, mode, kind, cause: EXPECT at va = base + (sym - 0x8000_0000), for superpages. */
.macro EXPECT_SYM name:req, base:req, sym:req, mode:req, kind:req, cause:req, want=PROBE_DATA
  la a2, \sym
  li t0, 0x80000000
  sub a2, a2, t0
  li t0, \base
  add a2, a2, t0
  EXPECT "\name", \mode, \kind, \cause, \want
.endm

/* The expected cause of a successful probe, and of each kind of page fault. */
#define OK_S CAUSE_SUPERVISOR_ECALL
#define OK_U CAUSE_USER_ECALL
#define PF_L CAUSE_LOAD_PAGE_FAULT
#define PF_S CAUSE_STORE_PAGE_FAULT
#define PF_F CAUSE_FETCH_PAGE_FAULT

/*
 * PERM_CASES xwr, u, mode: probe the page VA_PERM + xwr * 0x1000 + u * 0x8000 (R/W/X = xwr, U = u) from `mode`
 * (the page's own mode: S for u = 0, U for u = 1). W without R is reserved: every access faults (§4.3.1).
 */
.macro PERM_CASES xwr:req, u:req, mode:req, ok:req
  .set .Lr\@, (\xwr) & 1
  .set .Lw\@, ((\xwr) >> 1) & 1
  .set .Lx\@, ((\xwr) >> 2) & 1
  .set .Lres\@, .Lw\@ & (1 - .Lr\@)
  li a2, VA_PERM + (\xwr) * 0x1000 + (\u) * 0x8000
  .if .Lr\@
  EXPECT "mode \mode load, xwr=\xwr u=\u", \mode, PROBE_LOAD, \ok
  .else
  EXPECT "mode \mode load, xwr=\xwr u=\u", \mode, PROBE_LOAD, PF_L
  .endif
  li a2, VA_PERM + (\xwr) * 0x1000 + (\u) * 0x8000
  .if .Lr\@ & .Lw\@
  EXPECT "mode \mode store, xwr=\xwr u=\u", \mode, PROBE_STORE, \ok
  .else
  EXPECT "mode \mode store, xwr=\xwr u=\u", \mode, PROBE_STORE, PF_S
  .endif
  li a2, VA_PERM + (\xwr) * 0x1000 + (\u) * 0x8000
  .if .Lx\@ & (1 - .Lres\@)
  EXPECT "mode \mode fetch, xwr=\xwr u=\u", \mode, PROBE_FETCH, \ok
  .else
  EXPECT "mode \mode fetch, xwr=\xwr u=\u", \mode, PROBE_FETCH, PF_F
  .endif
.endm

/* CHECK_PTE_AD "name", reg, want: the A/D bits of the PTE at address reg. Clobbers t6. */
.macro CHECK_PTE_AD name:req, reg:req, want:req
  ld t6, 0(\reg)
  andi t6, t6, PTE_A | PTE_D
  CHECK "\name", t6, \want
.endm

/* MPP_IS mode: mstatus.MPP = mode (for MPRV). Clobbers t6. */
.macro MPP_IS mode:req
  CLEAR_MSTATUS MSTATUS_MPP
  SET_MSTATUS \mode << 11
.endm

/* SET_SATP root_reg, asid: satp = SATP_MODE | asid << 44 | root >> 12 (no sfence). Clobbers t5, t6. */
.macro SET_SATP root:req, asid:req
  srli t6, \root, 12
  li t5, (\asid << 44) | SATP_MODE
  or t6, t6, t5
  csrw satp, t6
.endm

  .text
  .balign 4
/*
 * mmu_fresh(a0 = asid) -> a0 = a new root table (also in cur_root) with the identity gigapage for S and the U
 * alias; satp = SATP_MODE | asid | root, sfence.vma, u_code_off = U_ALIAS.
 */
mmu_fresh:
  addi sp, sp, -32
  sd ra, 0(sp)
  sd s0, 8(sp)
  sd s1, 16(sp)
  mv s1, a0
  call pt_alloc
  mv s0, a0
  la t0, cur_root
  sd s0, 0(t0)
  mv a0, s0
  li a1, 0x80000000
  li a2, 0x80000000
  li a3, LEAF_RWX
  li a4, 2
  li a5, ROOT_LEVEL
  call pt_map
  mv a0, s0
  li a1, 0x80000000 + U_ALIAS
  li a2, 0x80000000
  li a3, LEAF_RWX | PTE_U
  li a4, 2
  li a5, ROOT_LEVEL
  call pt_map
  la t0, u_code_off
  li t1, U_ALIAS
  sd t1, 0(t0)
  srli t0, s0, 12
  slli t1, s1, 44
  or t0, t0, t1
  li t1, SATP_MODE
  or t0, t0, t1
  csrw satp, t0
  sfence.vma
  mv a0, s0
  ld ra, 0(sp)
  ld s0, 8(sp)
  ld s1, 16(sp)
  addi sp, sp, 32
  ret

/* ---- snippets ------------------------------------------------------------------------------------------------- */
snip_ecall:
  ecall
/* a0 = 100, then jump into the straddling instruction at a2 (addi a0, a0, 1 or 2, then ecall) */
snip_straddle:
  li a0, 100
  jr a2
/* sfence.vma for the page at a2, then load from it */
snip_sfence_ld:
  sfence.vma a2, zero
  ld a0, 8(a2)
  ecall
/* load without any fence */
snip_ld:
  ld a0, 8(a2)
  ecall
/* sfence.vma for the address space a3, then load */
snip_sfence_asid_ld:
  sfence.vma zero, a3
  ld a0, 8(a2)
  ecall
/* atomics at a2 */
snip_amo:
  amoadd.d a0, a3, (a2)
  ecall
snip_lr:
  lr.d a0, (a2)
  ecall
snip_lr_sc:
  lr.d a0, (a2)
  sc.d a1, a3, (a2)
  ecall
/* sfence.vma for the address a4 only, then load at a2 */
snip_sfence_a4_ld:
  sfence.vma a4, zero
  ld a0, 8(a2)
  ecall
/* where am I: a0 = this pc, a1 = the link of a jal */
snip_where:
  auipc a0, 0
  jal a1, 1f
1:
  ecall
/* loads and stores at a2 = 4 bytes before a page boundary */
snip_ld_cross:
  li a0, 0
snip_ld_cross_at:
  ld a0, 0(a2)
  ecall
snip_sd_cross:
  sd a3, 0(a2)
  ecall

TEST_BEGIN
  call priv_init
  call pt_reset
  li a0, 0
  call mmu_fresh
  csrr t1, satp
  srli t1, t1, 60
  CHECK "satp.MODE reads back", t1, SATP_MODE >> 60

  /* ==== S and U run through translation ==== */
  RUN PRV_S, snip_ecall
  CHECK "S runs through the identity gigapage", a0, CAUSE_SUPERVISOR_ECALL
  la a1, snip_ecall
  li t0, U_ALIAS
  add a1, a1, t0
  li a0, PRV_U
  call run_in
  CHECK "U runs through the U alias", a0, CAUSE_USER_ECALL
  RUN PRV_U, snip_ecall
  CHECK "U fetching an S page: instruction page fault", a0, CAUSE_FETCH_PAGE_FAULT
  CHECK_REC_ADDR "U fetching an S page: mepc", m_rec, REC_EPC, snip_ecall
  CHECK_REC_ADDR "U fetching an S page: mtval", m_rec, REC_TVAL, snip_ecall

  /* ==== a 4 KiB page ==== */
  MAP VA_BASIC, page_a, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  EXPECT_AT "4K RW page: S load", VA_BASIC, PRV_S, PROBE_LOAD, OK_S
  EXPECT_AT "4K RW page: S store", VA_BASIC, PRV_S, PROBE_STORE, OK_S
  la t0, page_a
  ld t1, 16(t0)
  CHECK "4K RW page: the store reached the physical page", t1, PROBE_STORE_VALUE
  sd zero, 16(t0)
  EXPECT_AT "4K RW page: S fetch (X=0)", VA_BASIC, PRV_S, PROBE_FETCH, PF_F
  EXPECT_AT "4K RW page: U load (U=0)", VA_BASIC, PRV_U, PROBE_LOAD, PF_L
  EXPECT_AT "unmapped: S load", VA_UNMAPPED, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "unmapped: S store", VA_UNMAPPED, PRV_S, PROBE_STORE, PF_S
  EXPECT_AT "unmapped: S fetch", VA_UNMAPPED, PRV_S, PROBE_FETCH, PF_F
  EXPECT_AT "unmapped: U load", VA_UNMAPPED, PRV_U, PROBE_LOAD, PF_L

  /* ==== every R/W/X combination, for S on S pages and U on U pages (A = D = 1) ==== */
  .irp xwr, 0, 1, 2, 3, 4, 5, 6, 7
  MAP VA_PERM + \xwr * 0x1000, page_a, PTE_V | PTE_A | PTE_D | (\xwr << 1)
  MAP VA_PERM + \xwr * 0x1000 + 0x8000, page_a, PTE_V | PTE_A | PTE_D | PTE_U | (\xwr << 1)
  .endr
  .irp xwr, 0, 1, 2, 3, 4, 5, 6, 7
  PERM_CASES \xwr, 0, PRV_S, OK_S
  PERM_CASES \xwr, 1, PRV_U, OK_U
  .endr

  /* ==== U pages from S: SUM (§4.1.1.2), and S pages from U ==== */
  EXPECT_AT "S load from a U page, SUM=0", VA_PERM + 0x3000 + 0x8000, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "S store to a U page, SUM=0", VA_PERM + 0x3000 + 0x8000, PRV_S, PROBE_STORE, PF_S
  SET_MSTATUS MSTATUS_SUM
  EXPECT_AT "S load from a U page, SUM=1", VA_PERM + 0x3000 + 0x8000, PRV_S, PROBE_LOAD, OK_S
  EXPECT_AT "S store to a U page, SUM=1", VA_PERM + 0x3000 + 0x8000, PRV_S, PROBE_STORE, OK_S
  EXPECT_AT "S fetch from a U page, SUM=1", VA_PERM + 0x7000 + 0x8000, PRV_S, PROBE_FETCH, PF_F
  EXPECT_AT "U load from an S page, SUM=1", VA_PERM + 0x7000, PRV_U, PROBE_LOAD, PF_L
  CLEAR_MSTATUS MSTATUS_SUM
  EXPECT_AT "S fetch from a U page, SUM=0", VA_PERM + 0x7000 + 0x8000, PRV_S, PROBE_FETCH, PF_F
  EXPECT_AT "U store to an S page", VA_PERM + 0x7000, PRV_U, PROBE_STORE, PF_S
  EXPECT_AT "U fetch from an S page", VA_PERM + 0x7000, PRV_U, PROBE_FETCH, PF_F

  /* ==== MXR: loads from execute-only pages (§3.1.6.3) ==== */
  SET_MSTATUS MSTATUS_MXR
  EXPECT_AT "MXR=1: S load from X-only page", VA_PERM + 0x4000, PRV_S, PROBE_LOAD, OK_S
  EXPECT_AT "MXR=1: S store to X-only page", VA_PERM + 0x4000, PRV_S, PROBE_STORE, PF_S
  EXPECT_AT "MXR=1: U load from U X-only page", VA_PERM + 0x4000 + 0x8000, PRV_U, PROBE_LOAD, OK_U
  EXPECT_AT "MXR=1: S load from W-only (reserved) page", VA_PERM + 0x2000, PRV_S, PROBE_LOAD, PF_L
  SET_MSTATUS MSTATUS_SUM
  EXPECT_AT "MXR=1 SUM=1: S load from U X-only page", VA_PERM + 0x4000 + 0x8000, PRV_S, PROBE_LOAD, OK_S
  CLEAR_MSTATUS MSTATUS_SUM | MSTATUS_MXR
  EXPECT_AT "MXR=0: S load from X-only page", VA_PERM + 0x4000, PRV_S, PROBE_LOAD, PF_L

  /* ==== V=0 and reserved PTE bits (§4.3.2 step 2, §4.4.1) ==== */
  MAP VA_RSVD, page_a, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
  EXPECT_AT "leaf with V=0: S load", VA_RSVD, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "leaf with V=0: S store", VA_RSVD, PRV_S, PROBE_STORE, PF_S
  EXPECT_AT "leaf with V=0: S fetch", VA_RSVD, PRV_S, PROBE_FETCH, PF_F
  MAP VA_RSVD + 0x1000, page_a, LEAF_RWX | (1 << 54)
  EXPECT_AT "leaf with reserved bit 54: S load", VA_RSVD + 0x1000, PRV_S, PROBE_LOAD, PF_L
  MAP VA_RSVD + 0x2000, page_a, LEAF_RWX | (1 << 61)
  EXPECT_AT "leaf with PBMT=1 (no Svpbmt): S load", VA_RSVD + 0x2000, PRV_S, PROBE_LOAD, PF_L
  MAP VA_RSVD + 0x3000, page_a, LEAF_RWX | (1 << 63)
  EXPECT_AT "leaf with N=1 (no Svnapot): S load", VA_RSVD + 0x3000, PRV_S, PROBE_LOAD, PF_L
  MAP VA_RSVD + 0x4000, page_a, LEAF_RWX | (1 << 8)
  EXPECT_AT "leaf with RSW bit 8 set (software's): S load", VA_RSVD + 0x4000, PRV_S, PROBE_LOAD, OK_S
  /* non-leaf PTEs: D, A and U are reserved (§4.3.1); set them on the level-1 PTE above VA_RSVD's table */
  MAP VA_RSVD + 0x5000, page_a, LEAF_RWX
  EXPECT_AT "non-leaf PTEs plain: S load", VA_RSVD + 0x5000, PRV_S, PROBE_LOAD, OK_S
  /* find the level-1 PTE pointing at the level-0 table: walk root -> ... -> level 1 */
  la t0, cur_root
  ld t0, 0(t0)
  li t2, VA_RSVD
  li t3, ROOT_LEVEL
1:
  slli t4, t3, 3
  add t4, t4, t3
  addi t4, t4, 12
  srl t4, t2, t4
  andi t4, t4, 511
  slli t4, t4, 3
  add t4, t4, t0            /* &table[vpn[level]] */
  li t5, 1
  beq t3, t5, 2f
  ld t0, 0(t4)
  srli t0, t0, 10
  slli t0, t0, 12
  addi t3, t3, -1
  j 1b
2:
  mv s4, t4                 /* s4 = &level-1 PTE above VA_RSVD's level-0 table */
  ld t1, 0(s4)
  CHECK_MASKED "non-leaf PTE: only V set in its flags", t1, 0x3ff, PTE_V
  ori t1, t1, PTE_U
  sd t1, 0(s4)
  EXPECT_AT "non-leaf PTE with U set (reserved): S load", VA_RSVD + 0x5000, PRV_S, PROBE_LOAD, PF_L
  ld t1, 0(s4)
  andi t1, t1, ~PTE_U
  ori t1, t1, PTE_A | PTE_D
  sd t1, 0(s4)
  EXPECT_AT "non-leaf PTE with A and D set (reserved): S load", VA_RSVD + 0x5000, PRV_S, PROBE_LOAD, PF_L
  ld t1, 0(s4)
  andi t1, t1, ~(PTE_A | PTE_D)
  sd t1, 0(s4)
  EXPECT_AT "non-leaf PTE restored: S load", VA_RSVD + 0x5000, PRV_S, PROBE_LOAD, OK_S

  /* ==== A and D set by hardware (§4.3.2 step 7); faulting accesses leave them alone ==== */
  MAP VA_AD, page_a, PTE_V | PTE_R | PTE_W
  mv s4, a0
  EXPECT_AT "A/D: S load from A=0 page", VA_AD, PRV_S, PROBE_LOAD, OK_S
  CHECK_PTE_AD "A/D: after a load, A=1 D=0", s4, PTE_A
  EXPECT_AT "A/D: S store to A=1 D=0 page", VA_AD, PRV_S, PROBE_STORE, OK_S
  CHECK_PTE_AD "A/D: after a store, A=1 D=1", s4, PTE_A | PTE_D
  MAP VA_AD + 0x1000, page_a, PTE_V | PTE_R | PTE_W
  mv s4, a0
  EXPECT_AT "A/D: S store to A=0 D=0 page", VA_AD + 0x1000, PRV_S, PROBE_STORE, OK_S
  CHECK_PTE_AD "A/D: a store sets A and D", s4, PTE_A | PTE_D
  MAP VA_AD + 0x2000, page_a, PTE_V | PTE_R | PTE_X
  mv s4, a0
  EXPECT_AT "A/D: S fetch from A=0 page", VA_AD + 0x2000, PRV_S, PROBE_FETCH, OK_S
  CHECK_PTE_AD "A/D: a fetch sets A only", s4, PTE_A
  MAP VA_AD + 0x3000, page_a, PTE_V | PTE_R
  mv s4, a0
  EXPECT_AT "A/D: S store to read-only A=0 page faults", VA_AD + 0x3000, PRV_S, PROBE_STORE, PF_S
  CHECK_PTE_AD "A/D: the faulting store left A=0 D=0", s4, 0
  EXPECT_AT "A/D: S fetch from non-X A=0 page faults", VA_AD + 0x3000, PRV_S, PROBE_FETCH, PF_F
  CHECK_PTE_AD "A/D: the faulting fetch left A=0", s4, 0
  MAP VA_AD + 0x4000, page_a, PTE_V | PTE_R | PTE_W | PTE_A
  mv s4, a0
  EXPECT_AT "A/D: S load from A=1 D=0 page", VA_AD + 0x4000, PRV_S, PROBE_LOAD, OK_S
  CHECK_PTE_AD "A/D: a load leaves D=0", s4, PTE_A
  EXPECT_AT "A/D: S store to A=1 D=0 page", VA_AD + 0x4000, PRV_S, PROBE_STORE, OK_S
  CHECK_PTE_AD "A/D: then the store sets D", s4, PTE_A | PTE_D
  MAP VA_AD + 0x5000, page_a, PTE_V | PTE_R | PTE_W | PTE_U
  mv s4, a0
  EXPECT_AT "A/D: U load from U A=0 page", VA_AD + 0x5000, PRV_U, PROBE_LOAD, OK_U
  CHECK_PTE_AD "A/D: U load sets A", s4, PTE_A
  EXPECT_AT "A/D: S store to U page with SUM=0 faults", VA_AD + 0x5000, PRV_S, PROBE_STORE, PF_S
  CHECK_PTE_AD "A/D: the faulting S store left D=0", s4, PTE_A
  MAP_PA VA_MEGA_AD, 0x80000000, PTE_V | PTE_R | PTE_W | PTE_X, 1
  mv s4, a0
  EXPECT_SYM "A/D: S load through A=0 2 MiB page", VA_MEGA_AD, page_a, PRV_S, PROBE_LOAD, OK_S
  CHECK_PTE_AD "A/D: the 2 MiB leaf gets A", s4, PTE_A
  EXPECT_SYM "A/D: S store through the 2 MiB page", VA_MEGA_AD, page_a, PRV_S, PROBE_STORE, OK_S
  CHECK_PTE_AD "A/D: the 2 MiB leaf gets D", s4, PTE_A | PTE_D
  la t0, page_a
  sd zero, 16(t0)

  /* ==== superpages, and misaligned ones (§4.3.2 step 6) ==== */
  MAP_PA VA_MEGA, 0x80000000, LEAF_RWX, 1
  EXPECT_SYM "2 MiB page: S load", VA_MEGA, page_a, PRV_S, PROBE_LOAD, OK_S
  EXPECT_SYM "2 MiB page: S fetch", VA_MEGA, page_a, PRV_S, PROBE_FETCH, OK_S
  EXPECT_SYM "2 MiB page: S load at its 2nd 4 KiB page", VA_MEGA, page_b, PRV_S, PROBE_LOAD, OK_S, PROBE_DATA_B
  MAP_PA VA_MEGA_BAD, 0x80001000, LEAF_RWX, 1
  EXPECT_AT "misaligned 2 MiB page: S load", VA_MEGA_BAD + 0x3000, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "misaligned 2 MiB page: S store", VA_MEGA_BAD + 0x3000, PRV_S, PROBE_STORE, PF_S
  EXPECT_AT "misaligned 2 MiB page: S fetch", VA_MEGA_BAD + 0x3000, PRV_S, PROBE_FETCH, PF_F
  MAP_PA VA_GIGA, 0x80000000, LEAF_RWX, 2
  EXPECT_SYM "1 GiB page: S load", VA_GIGA, page_a, PRV_S, PROBE_LOAD, OK_S
  EXPECT_SYM "1 GiB page: S fetch", VA_GIGA, page_a, PRV_S, PROBE_FETCH, OK_S
  EXPECT_SYM "1 GiB page: S store", VA_GIGA, page_a, PRV_S, PROBE_STORE, OK_S
  la t0, page_a
  sd zero, 16(t0)
  MAP_PA VA_GIGA_BAD, 0x80200000, LEAF_RWX, 2
  EXPECT_AT "misaligned 1 GiB page: S load", VA_GIGA_BAD, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "misaligned 1 GiB page: S fetch", VA_GIGA_BAD, PRV_S, PROBE_FETCH, PF_F
#ifdef SV48
  MAP_PA VA_TERA, 0, LEAF_RWX, 3
  EXPECT_SYM "512 GiB page: S load", VA_TERA + 0x80000000, page_a, PRV_S, PROBE_LOAD, OK_S
  EXPECT_SYM "512 GiB page: S fetch", VA_TERA + 0x80000000, page_a, PRV_S, PROBE_FETCH, OK_S
  MAP_PA VA_TERA_BAD, 0x40000000, LEAF_RWX, 3
  EXPECT_AT "misaligned 512 GiB page: S load", VA_TERA_BAD, PRV_S, PROBE_LOAD, PF_L
#else
  EXPECT_AT "Sv39: 0x80_0000_0000 is not canonical: S load", VA_TERA, PRV_S, PROBE_LOAD, PF_L
#endif

  /* ==== canonical addresses (§4.4.1, §4.5.1): bits above the VA width must equal its top bit ==== */
  MAP VA_BIT38, page_a, LEAF_RWX
  MAP VA_TOP, page_a, LEAF_RWX
#ifdef SV48
  MAP VA_BIT47, page_a, LEAF_RWX
  EXPECT_AT "VA 0x40_0000_0000 (canonical in Sv48): S load", VA_BIT38, PRV_S, PROBE_LOAD, OK_S
  EXPECT_AT "VA 0x40_0000_0000 (canonical in Sv48): S fetch", VA_BIT38, PRV_S, PROBE_FETCH, OK_S
#else
  EXPECT_AT "VA 0x40_0000_0000 (non-canonical in Sv39): S load", VA_BIT38, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "VA 0x40_0000_0000 (non-canonical in Sv39): S store", VA_BIT38, PRV_S, PROBE_STORE, PF_S
  EXPECT_AT "VA 0x40_0000_0000 (non-canonical in Sv39): S fetch", VA_BIT38, PRV_S, PROBE_FETCH, PF_F
#endif
  EXPECT_AT "VA 0x8000_0000_0000 (non-canonical): S load", VA_BIT47, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "VA 0x8000_0000_0000 (non-canonical): S fetch", VA_BIT47, PRV_S, PROBE_FETCH, PF_F
  EXPECT_AT "VA 0xffff_ffff_ffff_f000 (last page): S load", VA_TOP, PRV_S, PROBE_LOAD, OK_S
  EXPECT_AT "VA 0xffff_ffff_ffff_f000 (last page): S store", VA_TOP, PRV_S, PROBE_STORE, OK_S
  EXPECT_AT "VA 0xffff_ffff_ffff_f000 (last page): S fetch", VA_TOP, PRV_S, PROBE_FETCH, OK_S
  la t0, page_a
  sd zero, 16(t0)
  EXPECT_AT "VA 0x8000_0000_0000_0000: S load", VA_SIGN, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "VA 0x8000_0000_0000_0000: S store", VA_SIGN, PRV_S, PROBE_STORE, PF_S
  EXPECT_AT "VA 0x8000_0000_0000_0000: S fetch", VA_SIGN, PRV_S, PROBE_FETCH, PF_F
  EXPECT_AT "VA 0x8000_0000_0000_0000: U fetch", VA_SIGN, PRV_U, PROBE_FETCH, PF_F

  /* ==== the TLB must not outlive what the spec makes immediate: SUM, MXR, privilege, D, satp.MODE ==== */
  SET_MSTATUS MSTATUS_SUM
  EXPECT_AT "no fence: S load from U page with SUM=1", VA_PERM + 0x3000 + 0x8000, PRV_S, PROBE_LOAD, OK_S
  CLEAR_MSTATUS MSTATUS_SUM
  EXPECT_NF "no fence: then SUM=0: S load faults", VA_PERM + 0x3000 + 0x8000, PRV_S, PROBE_LOAD, PF_L
  SET_MSTATUS MSTATUS_SUM
  EXPECT_NF "no fence: then SUM=1 again: S load", VA_PERM + 0x3000 + 0x8000, PRV_S, PROBE_LOAD, OK_S
  CLEAR_MSTATUS MSTATUS_SUM
  SET_MSTATUS MSTATUS_MXR
  EXPECT_AT "no fence: S load from X-only page with MXR=1", VA_PERM + 0x4000, PRV_S, PROBE_LOAD, OK_S
  CLEAR_MSTATUS MSTATUS_MXR
  EXPECT_NF "no fence: then MXR=0: S load faults", VA_PERM + 0x4000, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "no fence: S load from an S page", VA_BASIC, PRV_S, PROBE_LOAD, OK_S
  EXPECT_NF "no fence: then U load from it faults", VA_BASIC, PRV_U, PROBE_LOAD, PF_L
  EXPECT_AT "no fence: U load from a U page", VA_PERM + 0x3000 + 0x8000, PRV_U, PROBE_LOAD, OK_U
  EXPECT_NF "no fence: then S load from it (SUM=0) faults", VA_PERM + 0x3000 + 0x8000, PRV_S, PROBE_LOAD, PF_L
  EXPECT_AT "no fence: S load from a read-only page", VA_PERM + 0x1000, PRV_S, PROBE_LOAD, OK_S
  EXPECT_NF "no fence: then S store to it faults", VA_PERM + 0x1000, PRV_S, PROBE_STORE, PF_S
  MAP VA_AD + 0x6000, page_a, PTE_V | PTE_R | PTE_W | PTE_A
  mv s4, a0
  EXPECT_AT "no fence: S load from A=1 D=0 page", VA_AD + 0x6000, PRV_S, PROBE_LOAD, OK_S
  CHECK_PTE_AD "no fence: the load left D=0", s4, PTE_A
  EXPECT_NF "no fence: then S store to it", VA_AD + 0x6000, PRV_S, PROBE_STORE, OK_S
  CHECK_PTE_AD "no fence: the store set D although the load's translation was cached", s4, PTE_A | PTE_D
  la t0, page_a
  sd zero, 16(t0)
  EXPECT_SYM "satp Sv: S load through the 2 MiB page", VA_MEGA, page_a, PRV_S, PROBE_LOAD, OK_S
  csrr s5, satp
  li t0, SATP_MODE
  csrc satp, t0
  EXPECT_SYM "satp = Bare without sfence.vma: the VA is physical (nothing there)", VA_MEGA, page_a, PRV_S, PROBE_LOAD, CAUSE_LOAD_ACCESS
  csrw satp, s5
  la a2, page_a
  li t0, 0x80000000 - VA_MEGA
  sub a2, a2, t0
  EXPECT "satp back to Sv without sfence.vma: translated again", PRV_S, PROBE_LOAD, OK_S, PROBE_DATA, 0

  /* ==== sfence.vma rs1 = any address inside a superpage flushes it ==== */
  MAP_PA VA_MEGA2, 0x80000000, LEAF_RWX, 1
  mv s4, a0
  EXPECT_SYM "superpage for sfence: S load", VA_MEGA2, page_a, PRV_S, PROBE_LOAD, OK_S
  ld t1, 0(s4)
  andi t1, t1, ~PTE_V
  sd t1, 0(s4)
  la a2, page_a
  li t0, 0x80000000 - VA_MEGA2
  sub a2, a2, t0
  li a4, VA_MEGA2 + 0x1ff000
  RUN PRV_S, snip_sfence_a4_ld
  CHECK "superpage invalidated, sfence.vma of another address in it: load page fault", a0, CAUSE_LOAD_PAGE_FAULT

  /* ==== atomics: AMOs and SC need write permission and fault as stores; LR is a load (§4.3.1) ==== */
  ATOMIC "amoadd.d on a RW page", snip_amo, VA_BASIC + 16, CAUSE_SUPERVISOR_ECALL
  ATOMIC "amoadd.d on a read-only page", snip_amo, VA_PERM + 0x1000 + 16, CAUSE_STORE_PAGE_FAULT
  SET_MSTATUS MSTATUS_MXR
  ATOMIC "amoadd.d on an X-only page with MXR=1", snip_amo, VA_PERM + 0x4000 + 16, CAUSE_STORE_PAGE_FAULT
  ATOMIC "lr.d on an X-only page with MXR=1", snip_lr, VA_PERM + 0x4000 + 8, CAUSE_SUPERVISOR_ECALL
  CLEAR_MSTATUS MSTATUS_MXR
  ATOMIC "lr.d on an X-only page with MXR=0", snip_lr, VA_PERM + 0x4000 + 8, CAUSE_LOAD_PAGE_FAULT
  ATOMIC "lr.d on a read-only page", snip_lr, VA_PERM + 0x1000 + 8, CAUSE_SUPERVISOR_ECALL
  ATOMIC "lr.d then sc.d on a read-only page: store page fault", snip_lr_sc, VA_PERM + 0x1000 + 8, CAUSE_STORE_PAGE_FAULT
  ATOMIC "lr.d then sc.d on a RW page", snip_lr_sc, VA_BASIC + 8, CAUSE_SUPERVISOR_ECALL
  SNAP t1, 11
  CHECK "lr.d then sc.d on a RW page: sc succeeded", t1, 0
  la t0, page_a
  ld t1, 8(t0)
  CHECK "lr.d then sc.d on a RW page: stored", t1, 1
  li t1, PROBE_DATA
  sd t1, 8(t0)
  MAP VA_AD + 0x7000, page_a, PTE_V | PTE_R | PTE_W
  mv s4, a0
  ATOMIC "amoadd.d on an A=0 D=0 page", snip_amo, VA_AD + 0x7000 + 16, CAUSE_SUPERVISOR_ECALL
  CHECK_PTE_AD "amoadd.d sets A and D", s4, PTE_A | PTE_D
  la t0, page_a
  sd zero, 16(t0)

  /* ==== code running at the top of the address space, and an instruction straddling into the hole ==== */
  MAP_PA VA_HIGH, 0x80000000, LEAF_RWX, 1
  sfence.vma
  la a1, snip_where
  li t0, VA_HIGH - 0x80000000
  add a1, a1, t0
  mv s2, a1
  li a0, PRV_S
  call run_in
  CHECK "code at 0xffff_ffff_ffe0_0000+: runs", a0, CAUSE_SUPERVISOR_ECALL
  SNAP t1, 10
  CHECK_REGS "code at the top: auipc sees the high pc", t1, s2
  SNAP t1, 11
  addi s3, s2, 8
  CHECK_REGS "code at the top: jal links to the high pc", t1, s3
  CHECK_REC_REG "code at the top: mepc of its ecall", m_rec, REC_EPC, s3
  MAP VA_EDGE, page_s0, PTE_V | PTE_R | PTE_X | PTE_A
  li a2, VA_EDGE + 4094
  sfence.vma
  RUN PRV_S, snip_straddle
  CHECK "straddle into the non-canonical hole: instruction page fault", a0, CAUSE_FETCH_PAGE_FAULT
  CHECK_REC "straddle into the hole: mepc", m_rec, REC_EPC, VA_EDGE + 4094
  CHECK_REC "straddle into the hole: mtval = the first non-canonical address", m_rec, REC_TVAL, VA_EDGE + 4096

  /* ==== a 4-byte instruction straddling two pages (privileged spec §3.1.16, mtval = the faulting portion) ==== */
  MAP VA_STRADDLE, page_s0, PTE_V | PTE_R | PTE_X | PTE_A
  li a2, VA_STRADDLE + 4094
  sfence.vma
  RUN PRV_S, snip_straddle
  CHECK "straddle, next page unmapped: instruction page fault", a0, CAUSE_FETCH_PAGE_FAULT
  CHECK_REC "straddle, next page unmapped: mepc = the instruction", m_rec, REC_EPC, VA_STRADDLE + 4094
  CHECK_REC "straddle, next page unmapped: mtval = the next page", m_rec, REC_TVAL, VA_STRADDLE + 4096
  SNAP t1, 10
  CHECK "straddle, next page unmapped: not executed", t1, 100
  MAP VA_STRADDLE + 0x1000, page_s1, PTE_V | PTE_R | PTE_A
  li a2, VA_STRADDLE + 4094
  sfence.vma
  RUN PRV_S, snip_straddle
  CHECK "straddle, next page not executable: instruction page fault", a0, CAUSE_FETCH_PAGE_FAULT
  CHECK_REC "straddle, next page not executable: mepc", m_rec, REC_EPC, VA_STRADDLE + 4094
  CHECK_REC "straddle, next page not executable: mtval", m_rec, REC_TVAL, VA_STRADDLE + 4096
  MAP VA_STRADDLE + 0x1000, page_s1, PTE_V | PTE_R | PTE_X | PTE_A
  li a2, VA_STRADDLE + 4094
  sfence.vma
  RUN PRV_S, snip_straddle
  CHECK "straddle, both pages mapped: runs to the ecall", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "straddle, both pages mapped: ecall after it", m_rec, REC_EPC, VA_STRADDLE + 4098
  SNAP t1, 10
  CHECK "straddle, both pages mapped: addi a0, a0, 1 ran", t1, 101
  /* the second half now comes from another physical page: the instruction becomes addi a0, a0, 2 */
  MAP VA_STRADDLE + 0x1000, page_s2, PTE_V | PTE_R | PTE_X | PTE_A
  li a2, VA_STRADDLE + 4094
  sfence.vma
  RUN PRV_S, snip_straddle
  CHECK "straddle, second page remapped + sfence.vma: runs", a0, CAUSE_SUPERVISOR_ECALL
  SNAP t1, 10
  CHECK "straddle, second page remapped + sfence.vma: addi a0, a0, 2 ran", t1, 102
  MAP VA_STRADDLE + 0x1000, page_s1, PTE_V | PTE_R | PTE_X | PTE_A | PTE_U
  li a2, VA_STRADDLE + 4094
  sfence.vma
  RUN PRV_S, snip_straddle
  CHECK "straddle, next page is a U page: S fetch faults", a0, CAUSE_FETCH_PAGE_FAULT
  CHECK_REC "straddle, next page is a U page: mtval", m_rec, REC_TVAL, VA_STRADDLE + 4096

  /* ==== loads and stores crossing a page boundary (misaligned; each page translated on its own) ==== */
  MAP VA_CROSS, page_a, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  li a2, VA_CROSS + 4092
  sfence.vma
  RUN PRV_S, snip_ld_cross
  CHECK "load crossing into an unmapped page: load page fault", a0, CAUSE_LOAD_PAGE_FAULT
  CHECK_REC "load crossing into an unmapped page: mtval = the unmapped part", m_rec, REC_TVAL, VA_CROSS + 4096
  CHECK_REC_ADDR "load crossing into an unmapped page: mepc", m_rec, REC_EPC, snip_ld_cross_at
  MAP VA_CROSS + 0x1000, page_b, PTE_V | PTE_R | PTE_A | PTE_D
  li a2, VA_CROSS + 4092
  sfence.vma
  RUN PRV_S, snip_ld_cross
  CHECK "load crossing two mapped pages: no fault", a0, CAUSE_SUPERVISOR_ECALL
  SNAP t1, 10
  CHECK "load crossing two mapped pages: bytes from both", t1, 0x00000073cafef00d
  li a2, VA_CROSS + 4092
  li a3, PROBE_STORE_VALUE
  RUN PRV_S, snip_sd_cross
  CHECK "store crossing into a read-only page: store page fault", a0, CAUSE_STORE_PAGE_FAULT
  CHECK_REC "store crossing into a read-only page: mtval = the read-only part", m_rec, REC_TVAL, VA_CROSS + 4096
  la t0, page_b
  lw t1, 0(t0)
  CHECK "store crossing into a read-only page: the read-only page is unchanged", t1, 0x73
  li t1, 0xcafef00d
  la t0, page_a + 4092
  sw t1, 0(t0)

  /* ==== sfence.vma after changing a PTE (§4.2.1) ==== */
  MAP VA_SFENCE, page_a, LEAF_RWX
  mv s4, a0
  li a2, VA_SFENCE
  sfence.vma
  RUN PRV_S, snip_ld
  SNAP t1, 10
  CHECK "sfence: load through the first mapping", t1, PROBE_DATA
  MAP VA_SFENCE, page_b, LEAF_RWX
  li a2, VA_SFENCE
  RUN PRV_S, snip_sfence_ld
  SNAP t1, 10
  CHECK "sfence.vma va in S after remapping: the new page", t1, PROBE_DATA_B
  ld t1, 0(s4)
  andi t1, t1, ~PTE_V
  sd t1, 0(s4)
  li a2, VA_SFENCE
  RUN PRV_S, snip_sfence_ld
  CHECK "sfence.vma va in S after clearing V: load page fault", a0, CAUSE_LOAD_PAGE_FAULT

  /* ==== ASIDs (§4.1.11, §4.2.1): two address spaces with the same VA, switched without sfence.vma ==== */
  csrr s5, satp
  li t0, (0xffff << 44) | SATP_MODE
  csrr t1, satp
  or t0, t0, t1
  csrw satp, t0
  csrr t1, satp
  srli t1, t1, 44
  li t0, 0xffff
  and t1, t1, t0
  CHECK "satp.ASID: 16 bits writable", t1, 0xffff
  csrw satp, s5
  li t0, (5 << 60)
  csrw satp, t0
  csrr t1, satp
  CHECK_REGS "satp: a write with a reserved MODE is ignored", t1, s5
  li a0, 1
  call mmu_fresh
  mv s6, a0                 /* root of ASID 1 */
  MAP VA_ASID, page_a, LEAF_RWX
  mv s8, a0
  li a0, 2
  call mmu_fresh
  mv s7, a0                 /* root of ASID 2 */
  MAP VA_ASID, page_b, LEAF_RWX
  mv s9, a0
  SET_SATP s6, 1
  li a2, VA_ASID
  RUN PRV_S, snip_ld
  SNAP t1, 10
  CHECK "ASID 1: its page", t1, PROBE_DATA
  SET_SATP s7, 2
  li a2, VA_ASID
  RUN PRV_S, snip_ld
  SNAP t1, 10
  CHECK "ASID 2 (satp switched, no sfence): its page", t1, PROBE_DATA_B
  SET_SATP s6, 1
  li a2, VA_ASID
  RUN PRV_S, snip_ld
  SNAP t1, 10
  CHECK "back to ASID 1 (no sfence): its page", t1, PROBE_DATA
  /* remap in ASID 1's tables, flush ASID 1 only (from S, running in ASID 1) */
  la t0, page_b
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, LEAF_RWX
  sd t0, 0(s8)
  li a2, VA_ASID
  li a3, 1
  RUN PRV_S, snip_sfence_asid_ld
  SNAP t1, 10
  CHECK "ASID 1 remapped, sfence.vma x0, asid 1: the new page", t1, PROBE_DATA_B
  /* remap in ASID 2's tables, flush ASID 2 while running in ASID 1, then switch */
  la t0, page_a
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, LEAF_RWX
  sd t0, 0(s9)
  li a2, VA_ASID
  li a3, 2
  RUN PRV_S, snip_sfence_asid_ld
  SNAP t1, 10
  CHECK "in ASID 1 after sfence.vma x0, asid 2: still ASID 1's page", t1, PROBE_DATA_B
  SET_SATP s7, 2
  li a2, VA_ASID
  RUN PRV_S, snip_ld
  SNAP t1, 10
  CHECK "ASID 2 after its flush: the new page", t1, PROBE_DATA
  /* back to the main tables (ASID 0) */
  csrw satp, s5
  sfence.vma
  slli t0, s5, 20           /* root = satp.PPN << 12 */
  srli t0, t0, 8
  la t1, cur_root
  sd t0, 0(t1)

  /* ==== MPRV: M's loads and stores translated and checked as MPP (§3.1.6.3); M's fetches are not ==== */
  MAP VA_MPRV, page_a, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
  MAP VA_MPRV + 0x1000, page_b, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D | PTE_U
  MAP VA_MPRV + 0x2000, page_a, PTE_V | PTE_X | PTE_A
  sfence.vma
  li s2, VA_MPRV
  li s3, VA_MPRV + 0x1000
  MPP_IS PRV_S
  CLEAR_RECS
  SET_MSTATUS MSTATUS_MPRV
  ld t1, 8(s2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK "MPRV, MPP=S: M loads through the S page", t1, PROBE_DATA
  li t2, 0x77
  SET_MSTATUS MSTATUS_MPRV
  sd t2, 16(s2)
  CLEAR_MSTATUS MSTATUS_MPRV
  la t0, page_a
  ld t1, 16(t0)
  sd zero, 16(t0)
  CHECK "MPRV, MPP=S: M stores through the S page", t1, 0x77
  CHECK_REC "MPRV, MPP=S: no trap", m_rec, REC_COUNT, 0
  li t1, 0
  SET_MSTATUS MSTATUS_MPRV
.Lmprv_u_fault:
  ld t1, 8(s3)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_REC "MPRV, MPP=S, SUM=0: load from a U page faults in M", m_rec, REC_CAUSE, CAUSE_LOAD_PAGE_FAULT
  CHECK_REC_ADDR "MPRV load fault: mepc", m_rec, REC_EPC, .Lmprv_u_fault
  CHECK_REC "MPRV load fault: mtval", m_rec, REC_TVAL, VA_MPRV + 0x1000 + 8
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "MPRV load fault: taken from M (MPP=M), MPRV still set at the trap", t0, MSTATUS_MPP | MSTATUS_MPRV, MSTATUS_MPP | MSTATUS_MPRV
  MPP_IS PRV_S
  SET_MSTATUS MSTATUS_SUM | MSTATUS_MPRV
  ld t1, 8(s3)
  CLEAR_MSTATUS MSTATUS_MPRV | MSTATUS_SUM
  CHECK "MPRV, MPP=S, SUM=1: load from a U page", t1, PROBE_DATA_B
  li s2, VA_MPRV + 0x2000
  li t1, 0
  CLEAR_RECS
  SET_MSTATUS MSTATUS_MPRV
  ld t1, 8(s2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_REC "MPRV, MPP=S, MXR=0: load from an X-only page faults", m_rec, REC_CAUSE, CAUSE_LOAD_PAGE_FAULT
  MPP_IS PRV_S
  li t1, 0
  CLEAR_RECS
  SET_MSTATUS MSTATUS_MXR | MSTATUS_MPRV
  ld t1, 8(s2)
  CLEAR_MSTATUS MSTATUS_MPRV | MSTATUS_MXR
  CHECK "MPRV, MPP=S, MXR=1: load from an X-only page", t1, PROBE_DATA
  CHECK_REC "MPRV, MXR=1: no trap", m_rec, REC_COUNT, 0
  li s2, VA_MPRV
  MPP_IS PRV_U
  CLEAR_RECS
  SET_MSTATUS MSTATUS_MPRV
  sd zero, 16(s2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_REC "MPRV, MPP=U: store to an S page faults", m_rec, REC_CAUSE, CAUSE_STORE_PAGE_FAULT
  CHECK_REC "MPRV, MPP=U: store fault mtval", m_rec, REC_TVAL, VA_MPRV + 16
  MPP_IS PRV_U
  SET_MSTATUS MSTATUS_MPRV
  ld t1, 8(s3)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK "MPRV, MPP=U: load from a U page", t1, PROBE_DATA_B
  /* the U alias of this program: translated for MPP=U, physical (no memory there) for MPP=M */
  la s2, page_a
  li t0, U_ALIAS
  add s2, s2, t0
  SET_MSTATUS MSTATUS_MPRV
  ld t1, 8(s2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK "MPRV, MPP=U: load through the U alias", t1, PROBE_DATA
  MPP_IS PRV_M
  CLEAR_RECS
  SET_MSTATUS MSTATUS_MPRV
  ld t1, 8(s2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_REC "MPRV, MPP=M: the alias address is physical: load access fault", m_rec, REC_CAUSE, CAUSE_LOAD_ACCESS
  /* medeleg does not send M's MPRV faults to S */
  li t0, (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT)
  csrw medeleg, t0
  MPP_IS PRV_U
  CLEAR_RECS
  li s2, VA_MPRV
  SET_MSTATUS MSTATUS_MPRV
  ld t1, 8(s2)
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_REC "MPRV fault with medeleg set: still taken in M", m_rec, REC_CAUSE, CAUSE_LOAD_PAGE_FAULT
  CHECK_REC "MPRV fault with medeleg set: not in S", s_rec, REC_COUNT, 0
  csrw medeleg, zero
  CLEAR_MSTATUS MSTATUS_MPP

  /* ==== page faults delegated to S (medeleg[12, 13, 15]) ==== */
  li t0, (1 << CAUSE_FETCH_PAGE_FAULT) | (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT)
  csrw medeleg, t0
  li a2, VA_UNMAPPED
  li a0, PRV_S
  li a1, PROBE_LOAD
  call probe
  CHECK "delegated load page fault from S: taken in S", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "delegated load page fault from S: scause", s_rec, REC_CAUSE, CAUSE_LOAD_PAGE_FAULT
  CHECK_REC "delegated load page fault from S: stval", s_rec, REC_TVAL, VA_UNMAPPED + 8
  CHECK_REC_ADDR "delegated load page fault from S: sepc", s_rec, REC_EPC, probe_snippets + 4
  li a2, VA_UNMAPPED
  li a0, PRV_U
  li a1, PROBE_STORE
  call probe
  CHECK "delegated store page fault from U: taken in S", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "delegated store page fault from U: scause", s_rec, REC_CAUSE, CAUSE_STORE_PAGE_FAULT
  CHECK_REC "delegated store page fault from U: stval", s_rec, REC_TVAL, VA_UNMAPPED + 16
  la t1, probe_snippets + 16
  li t0, U_ALIAS
  add t1, t1, t0
  CHECK_REC_REG "delegated store page fault from U: sepc", s_rec, REC_EPC, t1
  la t0, s_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "delegated store page fault from U: SPP=U", t0, MSTATUS_SPP, 0
  li a2, VA_UNMAPPED
  li a0, PRV_U
  li a1, PROBE_FETCH
  call probe
  CHECK_REC "delegated fetch page fault from U: scause", s_rec, REC_CAUSE, CAUSE_FETCH_PAGE_FAULT
  CHECK_REC "delegated fetch page fault from U: sepc", s_rec, REC_EPC, VA_UNMAPPED
  CHECK_REC "delegated fetch page fault from U: stval", s_rec, REC_TVAL, VA_UNMAPPED
  csrw medeleg, zero
  csrw satp, zero
  sfence.vma
TEST_END

  .data
  .balign 8
cur_root: .dword 0

/*
 * Physical pages the tests map. A probe page holds an ecall at offset 0, a known dword at 8 and a store target at
 * 16. page_s0..2 hold the two halves of a straddling addi a0, a0, 1 (or 2) followed by an ecall.
 */
  .section .text.pages, "ax", @progbits
  .balign 4096
page_a:
  .hword 0x0073, 0x0000     /* ecall */
  .word 0
  .dword PROBE_DATA
  .dword 0
  .skip 4096 - 28
  .word 0xcafef00d          /* the last word, for the page-crossing load */
page_b:
  .hword 0x0073, 0x0000
  .word 0
  .dword PROBE_DATA_B
  .dword 0
  .skip 4096 - 24
page_s0:
  .skip 4094
  .hword 0x0513             /* low half of addi a0, a0, imm */
page_s1:
  .hword 0x0015             /* high half: imm = 1 */
  .hword 0x0073, 0x0000     /* ecall */
  .skip 4096 - 6
page_s2:
  .hword 0x0025             /* high half: imm = 2 */
  .hword 0x0073, 0x0000
  .skip 4096 - 6
