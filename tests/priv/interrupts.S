/*
 * Interrupts (privileged spec 1.12 §3.1.6.1, §3.1.7, §3.1.9, §3.3.3, §4.1.3): software interrupts through mip.SSIP
 * and the CLINT's msip, the machine timer through mtimecmp, priorities among simultaneous interrupts (MEI > MSI >
 * MTI > SEI > SSI > STI; M-destined before S-destined), mideleg delegation of SSI/STI/SEI, the global enables per
 * privilege (a higher mode's interrupts are taken whatever its xIE when running below it; delegated ones never in
 * M), vectored mtvec/stvec, and wfi waking on an interrupt enabled in mie whatever mstatus says. Only outcomes that
 * do not depend on time are compared: timer interrupts are armed where the place they are taken is fixed (wfi, or
 * a pending bit read after waking).
 */
#include "priv.h"

/* mtimecmp lead used for timer tests: 50 ms at 10 MHz, so that "not yet pending" holds even on a loaded host. */
#define TIMER_LEAD 500000

/* IRQLOG_RESET: forget the interrupts logged by m_trap. Clobbers t6. */
.macro IRQLOG_RESET
  la t6, irq_log
  sd zero, 0(t6)
.endm

/* CHECK_IRQLOG "name", i, cause: the i-th interrupt taken in M had cause code `cause`. Clobbers t6. */
.macro CHECK_IRQLOG name:req, i:req, cause:req
  la t6, irq_log
  ld t6, (8 + 8 * \i)(t6)
  CHECK "\name", t6, \cause
.endm

/* VEC_RESET: m_rec.VEC = s_rec.VEC = -1. Clobbers t5, t6. */
.macro VEC_RESET
  li t5, -1
  la t6, m_rec
  sd t5, REC_VEC(t6)
  la t6, s_rec
  sd t5, REC_VEC(t6)
.endm

/* MTIMECMP_SET reg: mtimecmp <- reg (first -1, so that no intermediate value fires). Clobbers t5, t6. */
.macro MTIMECMP_SET reg:req
  li t6, CLINT_MTIMECMP
  li t5, -1
  sd t5, 0(t6)
  sd \reg, 0(t6)
.endm

  .text
  .balign 4
snip_ecall:
  ecall

/* In S: a0 = sip, then ecall. */
snip_read_sip:
  csrr a0, sip
  ecall

/* In S: set sstatus.SIE; a pending, enabled, delegated interrupt is taken right after. */
snip_set_sie:
  csrsi sstatus, MSTATUS_SIE
snip_set_sie_after:
  ecall

/* In S with SIE=1: raise SSIP through sip (it is delegated); taken right after. */
snip_raise_ssip:
  csrsi sip, MIP_SSIP
snip_raise_ssip_after:
  ecall

/* In S with SIE=1: enable SSI in sie; SSIP is pending; taken right after. */
snip_enable_ssie:
  csrsi sie, MIP_SSIP
snip_enable_ssie_after:
  ecall

/* In S: wait for interrupts forever; the machine timer (M-destined) gets it out. */
snip_wfi_loop:
  wfi
snip_wfi_loop_j:
  j snip_wfi_loop

/* In S: raise MSIP through the CLINT, then spin; the M interrupt is taken at the spin loop. */
snip_s_msip:
  li t1, CLINT_MSIP
  li t2, 1
  sw t2, 0(t1)
snip_s_msip_spin:
  j snip_s_msip_spin

/* Spin (U or S) until an interrupt takes the hart away. */
snip_spin:
  j snip_spin

/* An illegal instruction (csrr from an M CSR in U or S). */
snip_illegal:
  csrr a0, mscratch
  ecall

TEST_BEGIN
  call priv_init

  /* ==== SSIP raised by M in mip, M-destined: pending but not taken while MIE=0, taken when MIE is set ==== */
  IRQLOG_RESET
  CLEAR_RECS
  li t0, MIP_SSIP
  csrw mie, t0
  csrs mip, t0
  csrr t1, mip
  CHECK_MASKED "mip.SSIP set by M", t1, MIP_SSIP, MIP_SSIP
  CHECK_REC "SSI with MIE=0 in M: not taken", m_rec, REC_COUNT, 0
  csrsi mstatus, MSTATUS_MIE
.Lssi_m:
  csrci mstatus, MSTATUS_MIE
  CHECK_REC "SSI in M after MIE=1: taken once", m_rec, REC_COUNT, 1
  CHECK_REC "SSI in M: mcause", m_rec, REC_CAUSE, INTR | IRQ_S
  CHECK_REC_ADDR "SSI in M: mepc = the instruction after csrsi", m_rec, REC_EPC, .Lssi_m
  CHECK_REC "SSI in M: mtval 0", m_rec, REC_TVAL, 0
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "SSI in M: MPP=M MPIE=1 MIE=0", t0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE, MSTATUS_MPP | MSTATUS_MPIE
  csrw mie, zero

  /* ==== MSIP through the CLINT ==== */
  li t0, MIP_MSIP
  csrw mie, t0
  li t1, CLINT_MSIP
  li t2, 1
  sw t2, 0(t1)
  csrr t3, mip
  CHECK_MASKED "CLINT msip=1: mip.MSIP=1", t3, MIP_MSIP, MIP_MSIP
  lw t3, 0(t1)
  CHECK "CLINT msip reads 1", t3, 1
  sw zero, 0(t1)
  csrr t3, mip
  CHECK_MASKED "CLINT msip=0: mip.MSIP=0", t3, MIP_MSIP, 0
  li t2, 1
  sw t2, 0(t1)
  CLEAR_RECS
  IRQLOG_RESET
  csrsi mstatus, MSTATUS_MIE
.Lmsi_m:
  csrci mstatus, MSTATUS_MIE
  CHECK_REC "MSI in M: mcause", m_rec, REC_CAUSE, INTR | IRQ_M
  CHECK_REC_ADDR "MSI in M: mepc", m_rec, REC_EPC, .Lmsi_m
  CHECK_REC "MSI in M: taken once (the handler cleared msip)", m_rec, REC_COUNT, 1
  csrr t3, mip
  CHECK_MASKED "MSI handled: mip.MSIP=0", t3, MIP_MSIP, 0
  csrw mie, zero

  /* ==== MTIP through mtimecmp: a compare value in the past raises it at once, one far ahead lowers it ==== */
  li t0, 0
  MTIMECMP_SET t0
  csrr t3, mip
  CHECK_MASKED "mtimecmp=0: mip.MTIP=1", t3, MIP_MTIP, MIP_MTIP
  li t0, -1
  MTIMECMP_SET t0
  csrr t3, mip
  CHECK_MASKED "mtimecmp=-1: mip.MTIP=0", t3, MIP_MTIP, 0
  li t0, MIP_MTIP
  csrw mie, t0
  li t0, 0
  MTIMECMP_SET t0
  CLEAR_RECS
  csrsi mstatus, MSTATUS_MIE
.Lmti_m:
  csrci mstatus, MSTATUS_MIE
  CHECK_REC "MTI in M: mcause", m_rec, REC_CAUSE, INTR | IRQ_MTI
  CHECK_REC_ADDR "MTI in M: mepc", m_rec, REC_EPC, .Lmti_m
  CHECK_REC "MTI in M: taken once (the handler set mtimecmp=-1)", m_rec, REC_COUNT, 1
  csrw mie, zero

  /* ==== priority: five interrupts pending at once, taken one after the other in M (§3.1.9) ==== */
  li t1, CLINT_MSIP
  li t2, 1
  sw t2, 0(t1)
  li t0, 0
  MTIMECMP_SET t0
  li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
  csrs mip, t0
  li t0, MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP
  csrw mie, t0
  IRQLOG_RESET
  CLEAR_RECS
  csrsi mstatus, MSTATUS_MIE
  csrci mstatus, MSTATUS_MIE
  CHECK_REC "priority in M: five interrupts taken", m_rec, REC_COUNT, 5
  CHECK_IRQLOG "priority in M: 1st MSI", 0, IRQ_M
  CHECK_IRQLOG "priority in M: 2nd MTI", 1, IRQ_MTI
  CHECK_IRQLOG "priority in M: 3rd SEI", 2, IRQ_SEI
  CHECK_IRQLOG "priority in M: 4th SSI", 3, IRQ_S
  CHECK_IRQLOG "priority in M: 5th STI", 4, IRQ_STI
  csrr t3, mip
  CHECK_MASKED "priority in M: nothing left pending", t3, 0xaaa, 0
  csrw mie, zero

  /* ==== taken below M whatever MIE says: M-destined interrupts in S and U (§3.1.6.1) ==== */
  li t0, MIP_MSIP
  csrw mie, t0
  .irp mode, PRV_S, PRV_U
  CLEAR_MSTATUS MSTATUS_MIE | MSTATUS_MPIE
  li t1, CLINT_MSIP
  li t2, 1
  sw t2, 0(t1)
  RUN \mode, snip_ecall
  CHECK "MSI with MIE=0 entering mode \mode: taken at once", a0, INTR | IRQ_M
  CHECK_REC_ADDR "MSI entering mode \mode: mepc = the first instruction", m_rec, REC_EPC, snip_ecall
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "MSI from mode \mode: MPP", t0, MSTATUS_MPP, \mode << 11
  .endr
  /* SSIP not delegated is M-destined too: taken in S with SIE=1 and MIE=0, and in U */
  li t0, MIP_SSIP
  csrw mie, t0
  SET_MSTATUS MSTATUS_SIE
  .irp mode, PRV_S, PRV_U
  li t0, MIP_SSIP
  csrs mip, t0
  RUN \mode, snip_ecall
  CHECK "undelegated SSI entering mode \mode: taken in M", a0, INTR | IRQ_S
  CHECK_REC "undelegated SSI entering mode \mode: not in S", s_rec, REC_COUNT, 0
  .endr
  li t0, 0
  MTIMECMP_SET t0
  li t0, MIP_MTIP
  csrw mie, t0
  RUN PRV_U, snip_ecall
  CHECK "MTI with MIE=0 entering U: taken at once", a0, INTR | IRQ_MTI
  CHECK_REC_ADDR "MTI entering U: mepc", m_rec, REC_EPC, snip_ecall
  csrr t3, mip
  CHECK_MASKED "MTI handled: mip.MTIP=0", t3, MIP_MTIP, 0
  csrw mie, zero
  CLEAR_MSTATUS MSTATUS_SIE

  /* ==== delegated interrupts (mideleg, §3.1.8): S-destined ==== */
  IRQLOG_RESET
  li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
  csrw mideleg, t0
  csrw mie, t0
  /* in S with SIE=0: pending, visible in sip, not taken */
  li t0, MIP_SSIP
  csrs mip, t0
  CLEAR_MSTATUS MSTATUS_SIE
  RUN PRV_S, snip_read_sip
  CHECK "delegated SSI in S with SIE=0: not taken", a0, CAUSE_SUPERVISOR_ECALL
  SNAP t1, 10
  CHECK_MASKED "delegated SSI in S with SIE=0: sip.SSIP=1", t1, 0x222, MIP_SSIP
  /* ... taken as soon as S sets SIE */
  RUN PRV_S, snip_set_sie
  CHECK "delegated SSI after S sets SIE: taken in S", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "delegated SSI after S sets SIE: scause", s_rec, REC_CAUSE, INTR | IRQ_S
  CHECK_REC_ADDR "delegated SSI after S sets SIE: sepc = next instruction", s_rec, REC_EPC, snip_set_sie_after
  CHECK_REC "delegated SSI: stval 0", s_rec, REC_TVAL, 0
  la t0, s_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "delegated SSI from S: SPP=S SPIE=1 SIE=0", t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPP | MSTATUS_SPIE
  CHECK_REC "delegated SSI: nothing logged in M", irq_log, 0, 0
  /* in U with SIE=0: taken in S at once */
  CLEAR_MSTATUS MSTATUS_SIE
  RUN PRV_U, snip_ecall
  CHECK "delegated SSI entering U with SIE=0: taken in S", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "delegated SSI from U: scause", s_rec, REC_CAUSE, INTR | IRQ_S
  CHECK_REC_ADDR "delegated SSI from U: sepc", s_rec, REC_EPC, snip_ecall
  la t0, s_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "delegated SSI from U: SPP=U SPIE=0", t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, 0
  /* in M with MIE=1 and SIE=1: an S-destined interrupt is never taken in M */
  CLEAR_RECS
  SET_MSTATUS MSTATUS_MIE | MSTATUS_SIE
  nop
  CLEAR_MSTATUS MSTATUS_MIE | MSTATUS_SIE
  CHECK_REC "delegated SSI in M with MIE=1 SIE=1: not taken", m_rec, REC_COUNT, 0
  /* S raises SSIP itself through sip, with SIE=1: taken at once */
  li t0, MIP_SSIP
  csrc mip, t0
  SET_MSTATUS MSTATUS_SIE
  RUN PRV_S, snip_raise_ssip
  CHECK_REC "S writes sip.SSIP with SIE=1: scause", s_rec, REC_CAUSE, INTR | IRQ_S
  CHECK_REC_ADDR "S writes sip.SSIP with SIE=1: sepc", s_rec, REC_EPC, snip_raise_ssip_after
  /* SSIP pending, SIE=1, but sie.SSIE=0: not taken until S enables it */
  li t0, MIP_SSIP
  csrc mie, t0
  SET_MSTATUS MSTATUS_SIE
  RUN PRV_S, snip_enable_ssie
  CHECK_REC "S sets sie.SSIE with SSIP pending: scause", s_rec, REC_CAUSE, INTR | IRQ_S
  CHECK_REC_ADDR "S sets sie.SSIE with SSIP pending: sepc", s_rec, REC_EPC, snip_enable_ssie_after
  li t0, MIP_SSIP
  csrc mip, t0
  /* STIP and SEIP raised by M, delegated: taken in S from U */
  li t0, MIP_STIP
  csrs mip, t0
  RUN PRV_U, snip_ecall
  CHECK_REC "delegated STI from U: scause", s_rec, REC_CAUSE, INTR | IRQ_STI
  li t0, MIP_STIP
  csrc mip, t0
  li t0, MIP_SEIP
  csrs mip, t0
  RUN PRV_U, snip_ecall
  CHECK_REC "delegated SEI from U: scause", s_rec, REC_CAUSE, INTR | IRQ_SEI
  li t0, MIP_SEIP
  csrc mip, t0

  /* ==== priority across destinations: from U, M-destined first, then S-destined by SEI > SSI > STI ==== */
  li t0, MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_MSIP
  csrw mie, t0
  li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
  csrs mip, t0
  li t1, CLINT_MSIP
  li t2, 1
  sw t2, 0(t1)
  CLEAR_MSTATUS MSTATUS_SIE
  RUN PRV_U, snip_ecall
  CHECK "from U, MSI and three delegated pending: MSI first (in M)", a0, INTR | IRQ_M
  CHECK_REC "from U: S saw nothing yet", s_rec, REC_COUNT, 0
  RUN PRV_U, snip_ecall
  CHECK_REC "from U, delegated SEI SSI STI pending: SEI first", s_rec, REC_CAUSE, INTR | IRQ_SEI
  li t0, MIP_SEIP
  csrc mip, t0
  RUN PRV_U, snip_ecall
  CHECK_REC "from U, delegated SSI STI pending: SSI next", s_rec, REC_CAUSE, INTR | IRQ_S
  li t0, MIP_SSIP
  csrc mip, t0
  RUN PRV_U, snip_ecall
  CHECK_REC "from U, delegated STI pending: STI last", s_rec, REC_CAUSE, INTR | IRQ_STI
  li t0, MIP_STIP
  csrc mip, t0
  RUN PRV_U, snip_ecall
  CHECK "from U, nothing pending: the ecall itself", a0, CAUSE_USER_ECALL

  /* ==== vectored mode: interrupts to BASE + 4 * cause, exceptions to BASE (§3.1.7, §4.1.2) ==== */
  la t0, m_vec + 1
  csrw mtvec, t0
  la t0, s_vec + 1
  csrw stvec, t0
  csrw mideleg, zero
  li t0, MIP_SSIP | MIP_MSIP | MIP_MTIP
  csrw mie, t0
  VEC_RESET
  li t0, MIP_SSIP
  csrs mip, t0
  RUN PRV_S, snip_ecall
  CHECK "vectored mtvec: SSI taken in M", a0, INTR | IRQ_S
  CHECK_REC "vectored mtvec: SSI at entry 1", m_rec, REC_VEC, 1
  VEC_RESET
  li t1, CLINT_MSIP
  li t2, 1
  sw t2, 0(t1)
  RUN PRV_U, snip_ecall
  CHECK_REC "vectored mtvec: MSI at entry 3", m_rec, REC_VEC, 3
  VEC_RESET
  li t0, 0
  MTIMECMP_SET t0
  RUN PRV_S, snip_ecall
  CHECK_REC "vectored mtvec: MTI at entry 7", m_rec, REC_VEC, 7
  VEC_RESET
  RUN PRV_U, snip_ecall
  CHECK "vectored mtvec: ecall from U", a0, CAUSE_USER_ECALL
  CHECK_REC "vectored mtvec: exceptions at BASE (entry 0)", m_rec, REC_VEC, 0
  VEC_RESET
  CLEAR_RECS
  ecall
  CHECK_REC "vectored mtvec: ecall from M at BASE", m_rec, REC_VEC, 0
  li t0, MIP_SSIP | MIP_STIP
  csrw mideleg, t0
  li t0, MIP_SSIP | MIP_STIP
  csrw mie, t0
  VEC_RESET
  li t0, MIP_SSIP
  csrs mip, t0
  RUN PRV_U, snip_ecall
  CHECK_REC "vectored stvec: delegated SSI at entry 1", s_rec, REC_VEC, 1
  CHECK_REC "vectored stvec: scause", s_rec, REC_CAUSE, INTR | IRQ_S
  li t0, MIP_SSIP
  csrc mip, t0
  VEC_RESET
  li t0, MIP_STIP
  csrs mip, t0
  RUN PRV_U, snip_ecall
  CHECK_REC "vectored stvec: delegated STI at entry 5", s_rec, REC_VEC, 5
  li t0, MIP_STIP
  csrc mip, t0
  li t0, 1 << CAUSE_ILLEGAL_INSTRUCTION
  csrw medeleg, t0
  VEC_RESET
  RUN PRV_U, snip_illegal
  CHECK_REC "vectored stvec: delegated exception at BASE (entry 0)", s_rec, REC_VEC, 0
  CHECK_REC "vectored stvec: exception scause", s_rec, REC_CAUSE, CAUSE_ILLEGAL_INSTRUCTION
  csrw medeleg, zero
  csrw mideleg, zero
  csrw mie, zero
  la t0, m_trap
  csrw mtvec, t0
  la t0, s_trap
  csrw stvec, t0

  /* ==== wfi wakes on an interrupt enabled in mie even with MIE=0 (§3.3.3) ==== */
  /* already pending: wfi completes at once, and nothing is taken */
  li t0, MIP_SSIP
  csrw mie, t0
  csrs mip, t0
  CLEAR_RECS
  wfi
  CHECK_REC "wfi in M with SSIP pending and MIE=0: completes, not taken", m_rec, REC_COUNT, 0
  csrc mip, t0
  /* timer due in 50 ms, MIE=0: wfi waits for it; afterwards MTIP is pending and mtime has reached mtimecmp */
  li t0, MIP_MTIP
  csrw mie, t0
  li t1, CLINT_MTIME
  ld s0, 0(t1)
  li t0, TIMER_LEAD
  add s0, s0, t0
  MTIMECMP_SET s0
  csrr t3, mip
  CHECK_MASKED "mtimecmp = mtime + 50 ms: MTIP not yet pending", t3, MIP_MTIP, 0
  CLEAR_RECS
1:
  wfi
  csrr t3, mip
  andi t3, t3, MIP_MTIP
  beqz t3, 1b
  CHECK_REC "wfi in M with MIE=0: woken by MTI, not taken", m_rec, REC_COUNT, 0
  li t1, CLINT_MTIME
  ld t2, 0(t1)
  sltu t2, t2, s0
  CHECK "after waking: mtime >= mtimecmp", t2, 0
  li t0, -1
  MTIMECMP_SET t0
  csrr t3, mip
  CHECK_MASKED "mtimecmp=-1 after waking: MTIP=0", t3, MIP_MTIP, 0
  /* wfi in S, timer due in 50 ms: the M-destined MTI is taken in M from the wfi loop */
  li t1, CLINT_MTIME
  ld s0, 0(t1)
  li t0, TIMER_LEAD
  add s0, s0, t0
  MTIMECMP_SET s0
  RUN PRV_S, snip_wfi_loop
  CHECK "wfi in S: woken and taken by MTI", a0, INTR | IRQ_MTI
  la t0, m_rec
  ld t1, REC_EPC(t0)
  la t2, snip_wfi_loop
  la t3, snip_wfi_loop_j
  xor t2, t2, t1
  xor t3, t3, t1
  seqz t2, t2
  seqz t3, t3
  or t2, t2, t3
  CHECK "wfi in S: mepc in the wfi loop", t2, 1
  li t1, CLINT_MTIME
  ld t2, 0(t1)
  sltu t2, t2, s0
  CHECK "wfi in S: mtime >= mtimecmp when taken", t2, 0
  /* U spinning with MIE=0: the machine timer, due in 50 ms, is taken at the spin loop */
  li t1, CLINT_MTIME
  ld s0, 0(t1)
  li t0, TIMER_LEAD
  add s0, s0, t0
  MTIMECMP_SET s0
  RUN PRV_U, snip_spin
  CHECK "U spinning: MTI taken", a0, INTR | IRQ_MTI
  CHECK_REC_ADDR "U spinning: mepc = the spin loop", m_rec, REC_EPC, snip_spin
  li t1, CLINT_MTIME
  ld t2, 0(t1)
  sltu t2, t2, s0
  CHECK "U spinning: mtime >= mtimecmp when taken", t2, 0
  /* S raises MSIP itself through the CLINT: taken in M at the next instruction, the spin loop */
  li t0, MIP_MSIP
  csrw mie, t0
  RUN PRV_S, snip_s_msip
  CHECK "S writes CLINT msip: MSI taken", a0, INTR | IRQ_M
  CHECK_REC_ADDR "S writes CLINT msip: mepc = the instruction after the store", m_rec, REC_EPC, snip_s_msip_spin
  csrw mie, zero
TEST_END
