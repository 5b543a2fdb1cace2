/*
 * Macros and constants for the privileged-architecture tests (privileged spec 1.12). The ISA runtime (crt.S,
 * test.h: checks, HTIF console) is reused as is; priv.S adds a trap handler for each of M and S, `run_in` to run a
 * snippet in S or U until it traps back to M, page-table building, PMP and CLINT helpers.
 *
 * Model: every check runs in M-mode. A snippet runs in S or U (entered with mret) until some trap reaches M; the M
 * handler records it in m_rec, saves the snippet's registers in m_regs and returns from run_in with a0 = mcause.
 * Traps delegated to S land in s_trap, which records them in s_rec and leaves with ecall (cause 9, so medeleg[9]
 * must be clear) or, when s_exit_via_u is set, through sret to a U-mode ecall (medeleg[8] must then be clear).
 * Traps taken in M from M are recorded the same way and resume at m_rec.RESUME if set, else after the trapping
 * instruction (interrupts: at mepc); they also clear mstatus.MPRV so the runtime itself keeps working.
 */
#ifndef POPEK_PRIV_H
#define POPEK_PRIV_H

#include "test.h"

/* Privilege levels (mstatus.MPP encoding). */
#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* mstatus fields (privileged spec §3.1.6). */
#define MSTATUS_SIE (1 << 1)
#define MSTATUS_MIE (1 << 3)
#define MSTATUS_SPIE (1 << 5)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_SPP (1 << 8)
#define MSTATUS_MPP (3 << 11)
#define MSTATUS_MPP_S (1 << 11)
#define MSTATUS_MPRV (1 << 17)
#define MSTATUS_SUM (1 << 18)
#define MSTATUS_MXR (1 << 19)
#define MSTATUS_TVM (1 << 20)
#define MSTATUS_TW (1 << 21)
#define MSTATUS_TSR (1 << 22)
/* The fields these tests look at (FS and the hypervisor bits of QEMU's machine are left out). */
#define MSTATUS_TESTED 0x7e19aa

/* mip/mie bits (§3.1.9) and interrupt causes. */
#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)
#define MIP_SEIP (1 << 9)
#define MIP_MEIP (1 << 11)
#define IRQ_S 1
#define IRQ_M 3
#define IRQ_STI 5
#define IRQ_MTI 7
#define IRQ_SEI 9
#define INTR 0x8000000000000000

/* Exception causes (Table 3.6) beyond test.h's. */
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_STORE_ACCESS 7
#define CAUSE_USER_ECALL 8
#define CAUSE_SUPERVISOR_ECALL 9
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT 13
#define CAUSE_STORE_PAGE_FAULT 15

/* Offsets into m_rec and s_rec (priv.S). */
#define REC_CAUSE 0
#define REC_EPC 8
#define REC_TVAL 16
#define REC_STATUS 24
#define REC_COUNT 32
#define REC_RESUME 40
#define REC_VEC 48

/* CLINT on QEMU's spike machine (and the test machine popek runs these on): riscv-aclint 1.0. */
#define CLINT_MSIP 0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME 0x200bff8

/* Sstc and counter-enable bits. */
#define MENVCFG_STCE 0x8000000000000000
#define CSR_STIMECMP 0x14d
#define CSR_MENVCFG 0x30a

/* Page-table entries (§4.3.1, §4.4.1). */
#define PTE_V 0x1
#define PTE_R 0x2
#define PTE_W 0x4
#define PTE_X 0x8
#define PTE_U 0x10
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80
#define SATP_SV39 (8 << 60)
#define SATP_SV48 (9 << 60)

/* PMP configuration bits (§3.7.1). */
#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_TOR 0x08
#define PMP_NA4 0x10
#define PMP_NAPOT 0x18
#define PMP_L 0x80

/* Probes (priv.S probe): the value a probe store writes, the snippet's a0 when its load did not happen, and the
 * value at offset 8 of a probe page (whose offset 0 holds an ecall). */
#define PROBE_STORE_VALUE 0x5a5a5a5a12345678
#define PROBE_POISON 0x0badc0de0badc0de
#define PROBE_DATA 0x1122334455667788
#define PROBE_LOAD 0
#define PROBE_STORE 1
#define PROBE_FETCH 2

#ifdef __ASSEMBLER__

/* RUN mode, entry: run the code at `entry` in `mode` (PRV_S / PRV_U) until a trap reaches M; a0 = mcause. */
.macro RUN mode:req, entry:req
  li a0, \mode
  la a1, \entry
  call run_in
.endm

/* RUN_REG mode, reg: the same with the entry address in a register (not a0). */
.macro RUN_REG mode:req, reg:req
  mv a1, \reg
  li a0, \mode
  call run_in
.endm

/* SNAP reg, n: reg = the value x<n> had when the last snippet trapped to M (m_regs). */
.macro SNAP reg:req, n:req
  la \reg, m_regs
  ld \reg, (8 * \n)(\reg)
.endm

/* CHECK_REC "name", rec, off, want: field `off` of m_rec/s_rec equals the constant. Clobbers t6. */
.macro CHECK_REC name:req, rec:req, off:req, want:req
  la t6, \rec
  ld t6, \off(t6)
  CHECK "\name", t6, \want
.endm

/* CHECK_REC_ADDR "name", rec, off, sym: field `off` equals the address of `sym`. Clobbers t5, t6. */
.macro CHECK_REC_ADDR name:req, rec:req, off:req, sym:req
  la t6, \rec
  ld t6, \off(t6)
  la t5, \sym
  CHECK_REGS "\name", t6, t5
.endm

/* CHECK_REC_REG "name", rec, off, reg: field `off` equals register `reg` (not t6). Clobbers t6. */
.macro CHECK_REC_REG name:req, rec:req, off:req, reg:req
  la t6, \rec
  ld t6, \off(t6)
  CHECK_REGS "\name", t6, \reg
.endm

/* CHECK_MASKED "name", reg, mask, want: (reg & mask) == want. Clobbers t6. */
.macro CHECK_MASKED name:req, reg:req, mask:req, want:req
  li t6, \mask
  and t6, t6, \reg
  CHECK "\name", t6, \want
.endm

/* CHECK_CSR_MASKED "name", csr, mask, want: (csr & mask) == want. Clobbers t6. */
.macro CHECK_CSR_MASKED name:req, csr:req, mask:req, want:req
  csrr t6, \csr
  CHECK_MASKED "\name", t6, \mask, \want
.endm

/* SET_MSTATUS bits / CLEAR_MSTATUS bits (any 64-bit constant). Clobbers t6. */
.macro SET_MSTATUS bits:req
  li t6, \bits
  csrs mstatus, t6
.endm
.macro CLEAR_MSTATUS bits:req
  li t6, \bits
  csrc mstatus, t6
.endm

/* M_RESUME_AT label: the next trap taken in M from M resumes at label. Clobbers t5, t6. */
.macro M_RESUME_AT lbl:req
  la t6, m_rec
  la t5, \lbl
  sd t5, REC_RESUME(t6)
.endm

/* CLEAR_RECS: zero both trap records (counts included). Clobbers t6. */
.macro CLEAR_RECS
  call clear_recs
.endm

#endif /* __ASSEMBLER__ */
#endif /* POPEK_PRIV_H */
