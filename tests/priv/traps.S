/*
 * Traps and delegation across M, S and U (privileged spec 1.12 §3.1.6–3.1.8, §3.1.11, §3.3, §4.1): ecall causes
 * from each mode, medeleg delegation of every exception that can be raised without the MMU (scause, sepc, stval,
 * SPP, SPIE, SIE), exceptions that stay in M, mret/sret state transitions (MPP, SPP, MPIE, SPIE, MPRV), the
 * TSR/TW/TVM traps and what stays legal, CSR privilege checks, counter enables and the WARL delegation, status and
 * interrupt views. Page faults are delegated in the MMU tests. Runs with satp = Bare and PMP entry 0 open.
 * Not covered: cause 0 (instruction address misaligned) cannot occur with the C extension; the time CSR and Sstc
 * (QEMU's spike machine gives the hart no time source, so both trap there whatever the enables say).
 */
#include "priv.h"

/* Nothing is mapped there, neither on QEMU's spike machine nor on popek's bare machine. */
#define NO_DEVICE 0x30000000

/* Encodings of the instructions whose bits land in mtval/stval. */
#define I_CSRR_A0_MSTATUS 0x30002573
#define I_CSRR_A0_MSCRATCH 0x34002573
#define I_CSRR_A0_MHARTID 0xf1402573
#define I_CSRW_MTVEC_A0 0x30551073
#define I_CSRR_A0_SSTATUS 0x10002573
#define I_CSRR_A0_SSCRATCH 0x14002573
#define I_CSRR_A0_SATP 0x18002573
#define I_CSRW_SATP_ZERO 0x18001073
#define I_CSRR_A0_STVEC 0x10502573
#define I_CSRR_A0_CYCLE 0xc0002573
#define I_CSRR_A0_TIME 0xc0102573
#define I_CSRR_A0_INSTRET 0xc0202573
#define I_CSRR_A0_HPM3 0xc0302573
#define I_CSRW_TIME_ZERO 0xc0101073
#define I_CSRRS_A0_CYCLE_T0 0xc002a573
#define I_SRET 0x10200073
#define I_MRET 0x30200073
#define I_WFI 0x10500073
#define I_SFENCE 0x12000073

/*
 * DELEG "name", mode, sie, snippet, cause, epc, tval: with SIE = sie, run `snippet` in `mode`; the exception must
 * be taken in S (scause, sepc = epc label, stval = tval constant, SPP = mode, SPIE = sie, SIE = 0) and s_trap then
 * leaves by ecall from S.
 */
.macro DELEG name:req, mode:req, sie:req, snippet:req, cause:req, epc:req, tval:req
  CLEAR_MSTATUS MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
  .if \sie
  SET_MSTATUS MSTATUS_SIE
  .endif
  RUN \mode, \snippet
  CHECK "\name: taken in S (then ecall from S)", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "\name: scause", s_rec, REC_CAUSE, \cause
  CHECK_REC_ADDR "\name: sepc", s_rec, REC_EPC, \epc
  CHECK_REC "\name: stval", s_rec, REC_TVAL, \tval
  la t0, s_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "\name: sstatus.SPP/SPIE/SIE", t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, (\mode << 8) | (\sie << 5)
.endm

/* DELEG_ADDR: as DELEG, with stval the address of a symbol (plus offset). */
.macro DELEG_ADDR name:req, mode:req, sie:req, snippet:req, cause:req, epc:req, tval:req
  CLEAR_MSTATUS MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
  .if \sie
  SET_MSTATUS MSTATUS_SIE
  .endif
  RUN \mode, \snippet
  CHECK "\name: taken in S (then ecall from S)", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "\name: scause", s_rec, REC_CAUSE, \cause
  CHECK_REC_ADDR "\name: sepc", s_rec, REC_EPC, \epc
  CHECK_REC_ADDR "\name: stval", s_rec, REC_TVAL, \tval
  la t0, s_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "\name: sstatus.SPP/SPIE/SIE", t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, (\mode << 8) | (\sie << 5)
.endm

/* IN_M "name", mode, snippet, cause, epc, tval: run `snippet`; the exception goes to M, S sees nothing. */
.macro IN_M name:req, mode:req, snippet:req, cause:req, epc:req, tval:req
  RUN \mode, \snippet
  CHECK "\name: mcause", a0, \cause
  CHECK_REC_ADDR "\name: mepc", m_rec, REC_EPC, \epc
  CHECK_REC "\name: mtval", m_rec, REC_TVAL, \tval
  CHECK_REC "\name: not taken in S", s_rec, REC_COUNT, 0
.endm

/* ILLEGAL_IN "name", mode, snippet, bits: the snippet's first instruction is illegal in `mode` (mtval = bits). */
.macro ILLEGAL_IN name:req, mode:req, snippet:req, bits:req
  RUN \mode, \snippet
  CHECK "\name: illegal instruction", a0, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR "\name: mepc", m_rec, REC_EPC, \snippet
  CHECK_REC "\name: mtval = instruction bits", m_rec, REC_TVAL, \bits
.endm

/* LEGAL_IN "name", mode, snippet: the snippet runs to its closing ecall. */
.macro LEGAL_IN name:req, mode:req, snippet:req
  RUN \mode, \snippet
  .if \mode == PRV_U
  CHECK "\name: no trap", a0, CAUSE_USER_ECALL
  .else
  CHECK "\name: no trap", a0, CAUSE_SUPERVISOR_ECALL
  .endif
.endm

/* ---- snippets (run in S or U) --------------------------------------------------------------------------------- */
  .text
  .balign 4
snip_ecall:
  ecall

snip_csrr_mstatus:
  csrr a0, mstatus
  ecall
snip_csrr_mscratch:
  csrr a0, mscratch
  ecall
snip_csrr_mhartid:
  csrr a0, mhartid
  ecall
snip_csrw_mtvec:
  csrw mtvec, a0
  ecall
snip_csrr_sstatus:
  csrr a0, sstatus
  ecall
snip_csrr_sscratch:
  csrr a0, sscratch
  ecall
snip_csrr_satp:
  csrr a0, satp
  ecall
snip_csrw_satp:
  csrw satp, zero
  ecall
snip_csrr_stvec:
  csrr a0, stvec
  ecall
snip_cycle:
  csrr a0, cycle
  ecall
snip_time:
  csrr a0, time
  ecall
snip_instret:
  csrr a0, instret
  ecall
snip_hpm3:
  csrr a0, hpmcounter3
  ecall
snip_csrw_time:
  csrw time, zero
  ecall
snip_csrrs_cycle_t0:
  csrrs a0, cycle, t0       /* t0 = 0, but rs1 is not x0: a write */
  ecall
snip_csrrsi_cycle_0:
  csrrsi a0, cycle, 0       /* uimm = 0: no write */
  ecall
snip_sret:
  sret
  ecall
snip_mret:
  mret
  ecall
snip_wfi:
  wfi
  ecall
snip_sfence:
  sfence.vma
  ecall
snip_ebreak:
  ebreak
  ecall
snip_fetch_fault:
  li t0, NO_DEVICE
  jr t0
snip_load_fault:
  li t0, NO_DEVICE
snip_load_fault_at:
  ld a0, 0(t0)
  ecall
snip_store_fault:
  li t0, NO_DEVICE
snip_store_fault_at:
  sd a0, 0(t0)
  ecall
snip_lr_misaligned:
  la t0, scratch_data + 4
snip_lr_misaligned_at:
  lr.d a0, (t0)
  ecall
snip_amo_misaligned:
  la t0, scratch_data + 4
snip_amo_misaligned_at:
  amoswap.d a0, a0, (t0)
  ecall

/* In S: sret to S with SPP = S, SPIE = 1, SIE = 0; then a0 = sstatus. */
snip_sret_to_s:
  li t0, MSTATUS_SPP | MSTATUS_SPIE
  csrs sstatus, t0
  li t0, MSTATUS_SIE
  csrc sstatus, t0
  la t0, 1f
  csrw sepc, t0
  sret
1:
  csrr a0, sstatus
  ecall

/* In S: sret to U with SPP = U, SPIE = 0, SIE = 1; then ecall from U. */
snip_sret_to_u:
  li t0, MSTATUS_SPP | MSTATUS_SPIE
  csrc sstatus, t0
  li t0, MSTATUS_SIE
  csrs sstatus, t0
  la t0, 1f
  csrw sepc, t0
  sret
1:
  ecall

/* In S: write sscratch = a2, read it back into a0. */
snip_sscratch_rw:
  csrw sscratch, a2
  csrr a0, sscratch
  ecall

/* In S: sstatus <- -1 except FS (which these tests never touch), then a0 = sstatus. */
snip_sstatus_all:
  li t0, ~(3 << 13)
  csrw sstatus, t0
  csrr a0, sstatus
  ecall

TEST_BEGIN
  call priv_init

  /* ==== ecall from each mode (cause 8, 9, 11; mepc = the ecall, mtval = 0, MPP = the mode it came from) ==== */
  RUN PRV_U, snip_ecall
  CHECK "ecall from U: mcause 8", a0, CAUSE_USER_ECALL
  CHECK_REC_ADDR "ecall from U: mepc", m_rec, REC_EPC, snip_ecall
  CHECK_REC "ecall from U: mtval", m_rec, REC_TVAL, 0
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "ecall from U: MPP = U", t0, MSTATUS_MPP, 0
  RUN PRV_S, snip_ecall
  CHECK "ecall from S: mcause 9", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC_ADDR "ecall from S: mepc", m_rec, REC_EPC, snip_ecall
  CHECK_REC "ecall from S: mtval", m_rec, REC_TVAL, 0
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "ecall from S: MPP = S", t0, MSTATUS_MPP, MSTATUS_MPP_S
  CLEAR_RECS
.Lecall_m:
  ecall
  CHECK_REC "ecall from M: mcause 11", m_rec, REC_CAUSE, CAUSE_MACHINE_ECALL
  CHECK_REC_ADDR "ecall from M: mepc", m_rec, REC_EPC, .Lecall_m
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "ecall from M: MPP = M", t0, MSTATUS_MPP, MSTATUS_MPP

  /* ==== mret: privilege <- MPP, MIE <- MPIE, MPIE <- 1, MPP <- U, MPRV <- 0 unless MPP = M (§3.1.6.1, §3.3.2) ==== */
  CLEAR_MSTATUS MSTATUS_MIE
  SET_MSTATUS MSTATUS_MPIE
  RUN PRV_S, snip_ecall
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "mret to S with MPIE=1: the next trap saw MIE=1 (MPIE=1 MIE=0 MPP=S)", t0, MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MPP_S
  CLEAR_MSTATUS MSTATUS_MPIE
  RUN PRV_U, snip_ecall
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "mret to U with MPIE=0: the next trap saw MIE=0 (MPIE=0 MIE=0 MPP=U)", t0, MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP, 0

  SET_MSTATUS MSTATUS_MPP | MSTATUS_MPIE
  CLEAR_MSTATUS MSTATUS_MIE
  la t0, 1f
  csrw mepc, t0
  mret
1:
  csrr t1, mstatus
  CLEAR_MSTATUS MSTATUS_MIE
  CHECK_MASKED "mret to M with MPIE=1: MIE=1 MPIE=1 MPP=U", t1, MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MIE
  SET_MSTATUS MSTATUS_MPP
  CLEAR_MSTATUS MSTATUS_MIE | MSTATUS_MPIE
  la t0, 1f
  csrw mepc, t0
  mret
1:
  csrr t1, mstatus
  CHECK_MASKED "mret to M with MPIE=0: MIE=0 MPIE=1 MPP=U", t1, MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP, MSTATUS_MPIE

  /* MPRV: satp is Bare and PMP entry 0 lets S and U do anything, so M's own accesses work whatever MPP says */
  SET_MSTATUS MSTATUS_MPRV
  RUN PRV_S, snip_ecall
  CHECK "mret to S with MPRV=1: reaches S", a0, CAUSE_SUPERVISOR_ECALL
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "mret to S clears MPRV", t0, MSTATUS_MPRV, 0
  SET_MSTATUS MSTATUS_MPRV
  RUN PRV_U, snip_ecall
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "mret to U clears MPRV", t0, MSTATUS_MPRV, 0
  SET_MSTATUS MSTATUS_MPRV | MSTATUS_MPP
  la t0, 1f
  csrw mepc, t0
  mret
1:
  csrr t1, mstatus
  CLEAR_MSTATUS MSTATUS_MPRV
  CHECK_MASKED "mret to M keeps MPRV", t1, MSTATUS_MPRV, MSTATUS_MPRV

  /* ==== sret: privilege <- SPP, SIE <- SPIE, SPIE <- 1, SPP <- U, MPRV <- 0 (§4.1.1, §3.3.2) ==== */
  RUN PRV_S, snip_sret_to_s
  CHECK "sret in S to S: no trap", a0, CAUSE_SUPERVISOR_ECALL
  SNAP t1, 10
  CHECK_MASKED "sret to S with SPIE=1: SIE=1 SPIE=1 SPP=U", t1, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPIE | MSTATUS_SIE
  RUN PRV_S, snip_sret_to_u
  CHECK "sret in S to U: ecall from U", a0, CAUSE_USER_ECALL
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "sret to U with SPIE=0: SIE=0 SPIE=1 SPP=U", t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPIE
  CLEAR_MSTATUS MSTATUS_SIE | MSTATUS_SPIE
  SET_MSTATUS MSTATUS_MPRV
  li a0, PRV_S
  la a1, snip_ecall
  call sret_in
  CHECK "sret in M to S: ecall from S", a0, CAUSE_SUPERVISOR_ECALL
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "sret in M clears MPRV", t0, MSTATUS_MPRV, 0
  li a0, PRV_U
  la a1, snip_ecall
  call sret_in
  CHECK "sret in M to U: ecall from U", a0, CAUSE_USER_ECALL

  /* ==== delegation of each exception raised from S and from U (medeleg, §3.1.8) ==== */
  li t0, 1 << CAUSE_ILLEGAL_INSTRUCTION
  csrw medeleg, t0
  DELEG "delegated illegal instruction from S", PRV_S, 1, snip_csrr_mstatus, CAUSE_ILLEGAL_INSTRUCTION, snip_csrr_mstatus, I_CSRR_A0_MSTATUS
  DELEG "delegated illegal instruction from U", PRV_U, 0, snip_csrr_mstatus, CAUSE_ILLEGAL_INSTRUCTION, snip_csrr_mstatus, I_CSRR_A0_MSTATUS
  DELEG "delegated illegal instruction from U with SIE=1", PRV_U, 1, snip_csrr_sstatus, CAUSE_ILLEGAL_INSTRUCTION, snip_csrr_sstatus, I_CSRR_A0_SSTATUS
  CLEAR_RECS
.Lill_m:
  csrr a0, 0x0ff            /* no such CSR */
  CHECK_REC "medeleg does not apply to M: illegal instruction in M taken in M", m_rec, REC_CAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR "illegal instruction in M: mepc", m_rec, REC_EPC, .Lill_m
  CHECK_REC "illegal instruction in M: not taken in S", s_rec, REC_COUNT, 0

  li t0, 1 << CAUSE_BREAKPOINT
  csrw medeleg, t0
  .irp mode, PRV_S, PRV_U
  CLEAR_MSTATUS MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP
  RUN \mode, snip_ebreak
  CHECK "delegated breakpoint from mode \mode: taken in S", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "delegated breakpoint from mode \mode: scause", s_rec, REC_CAUSE, CAUSE_BREAKPOINT
  CHECK_REC_ADDR "delegated breakpoint from mode \mode: sepc", s_rec, REC_EPC, snip_ebreak
  la t0, s_rec
  ld t1, REC_TVAL(t0)
  la t2, snip_ebreak
  bne t1, t2, 1f
  li t1, 0                  /* stval is 0 or the breakpoint's address (§4.1.9) */
1:
  CHECK "delegated breakpoint from mode \mode: stval 0 or sepc", t1, 0
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "delegated breakpoint from mode \mode: SPP", t0, MSTATUS_SPP, \mode << 8
  .endr

  li t0, 1 << CAUSE_FETCH_ACCESS
  csrw medeleg, t0
  .irp mode, PRV_S, PRV_U
  RUN \mode, snip_fetch_fault
  CHECK "delegated fetch access fault from mode \mode: taken in S", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "delegated fetch access fault from mode \mode: scause", s_rec, REC_CAUSE, CAUSE_FETCH_ACCESS
  CHECK_REC "delegated fetch access fault from mode \mode: sepc", s_rec, REC_EPC, NO_DEVICE
  CHECK_REC "delegated fetch access fault from mode \mode: stval", s_rec, REC_TVAL, NO_DEVICE
  .endr

  li t0, 1 << CAUSE_LOAD_ACCESS
  csrw medeleg, t0
  DELEG "delegated load access fault from S", PRV_S, 0, snip_load_fault, CAUSE_LOAD_ACCESS, snip_load_fault_at, NO_DEVICE
  DELEG "delegated load access fault from U", PRV_U, 1, snip_load_fault, CAUSE_LOAD_ACCESS, snip_load_fault_at, NO_DEVICE
  li t0, 1 << CAUSE_STORE_ACCESS
  csrw medeleg, t0
  DELEG "delegated store access fault from S", PRV_S, 1, snip_store_fault, CAUSE_STORE_ACCESS, snip_store_fault_at, NO_DEVICE
  DELEG "delegated store access fault from U", PRV_U, 0, snip_store_fault, CAUSE_STORE_ACCESS, snip_store_fault_at, NO_DEVICE
  li t0, 1 << CAUSE_MISALIGNED_LOAD
  csrw medeleg, t0
  DELEG_ADDR "delegated lr.d misaligned from S", PRV_S, 1, snip_lr_misaligned, CAUSE_MISALIGNED_LOAD, snip_lr_misaligned_at, scratch_data + 4
  DELEG_ADDR "delegated lr.d misaligned from U", PRV_U, 0, snip_lr_misaligned, CAUSE_MISALIGNED_LOAD, snip_lr_misaligned_at, scratch_data + 4
  /* both misaligned causes delegated: a misaligned AMO must report cause 6 (see QEMU_DEVIATIONS for cause 4) */
  li t0, (1 << CAUSE_MISALIGNED_STORE) | (1 << CAUSE_MISALIGNED_LOAD)
  csrw medeleg, t0
  DELEG_ADDR "delegated amoswap.d misaligned from S", PRV_S, 0, snip_amo_misaligned, CAUSE_MISALIGNED_STORE, snip_amo_misaligned_at, scratch_data + 4
  DELEG_ADDR "delegated amoswap.d misaligned from U", PRV_U, 1, snip_amo_misaligned, CAUSE_MISALIGNED_STORE, snip_amo_misaligned_at, scratch_data + 4

  li t0, 1 << CAUSE_USER_ECALL
  csrw medeleg, t0
  DELEG "delegated ecall from U", PRV_U, 1, snip_ecall, CAUSE_USER_ECALL, snip_ecall, 0
  RUN PRV_S, snip_ecall
  CHECK "medeleg[8] leaves ecall from S in M", a0, CAUSE_SUPERVISOR_ECALL
  CHECK_REC "medeleg[8]: ecall from S not taken in S", s_rec, REC_COUNT, 0

  /* ecall from S delegated: s_trap leaves through a U-mode ecall (medeleg[8] clear) */
  li t0, 1 << CAUSE_SUPERVISOR_ECALL
  csrw medeleg, t0
  la t0, s_exit_via_u
  li t1, 1
  sd t1, 0(t0)
  SET_MSTATUS MSTATUS_SIE
  RUN PRV_S, snip_ecall
  CHECK "delegated ecall from S: taken in S, left via U", a0, CAUSE_USER_ECALL
  CHECK_REC_ADDR "delegated ecall from S: mepc = the U ecall", m_rec, REC_EPC, u_ecall_stub
  CHECK_REC "delegated ecall from S: scause", s_rec, REC_CAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK_REC_ADDR "delegated ecall from S: sepc", s_rec, REC_EPC, snip_ecall
  CHECK_REC "delegated ecall from S: stval", s_rec, REC_TVAL, 0
  la t0, s_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "delegated ecall from S: SPP=S SPIE=1 SIE=0", t0, MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE, MSTATUS_SPP | MSTATUS_SPIE
  RUN PRV_U, snip_ecall
  CHECK "medeleg[9] leaves ecall from U in M", a0, CAUSE_USER_ECALL
  CHECK_REC "medeleg[9]: ecall from U not taken in S", s_rec, REC_COUNT, 0
  la t0, s_exit_via_u
  sd zero, 0(t0)

  /* everything else delegated, the cause itself not: the trap stays in M */
  li t0, 0xb3ff & ~(1 << CAUSE_ILLEGAL_INSTRUCTION) & ~(1 << CAUSE_SUPERVISOR_ECALL)
  csrw medeleg, t0
  IN_M "undelegated illegal instruction from S", PRV_S, snip_csrr_mscratch, CAUSE_ILLEGAL_INSTRUCTION, snip_csrr_mscratch, I_CSRR_A0_MSCRATCH
  IN_M "undelegated illegal instruction from U", PRV_U, snip_csrr_mscratch, CAUSE_ILLEGAL_INSTRUCTION, snip_csrr_mscratch, I_CSRR_A0_MSCRATCH
  li t0, 0xb3ff & ~(1 << CAUSE_LOAD_ACCESS) & ~(1 << CAUSE_SUPERVISOR_ECALL)
  csrw medeleg, t0
  IN_M "undelegated load access fault from S", PRV_S, snip_load_fault, CAUSE_LOAD_ACCESS, snip_load_fault_at, NO_DEVICE
  /* all delegable exceptions delegated: ecall from M still goes to M */
  li t0, -1
  csrw medeleg, t0
  CLEAR_RECS
.Lecall_m2:
  ecall
  CHECK_REC "medeleg all ones: ecall from M taken in M", m_rec, REC_CAUSE, CAUSE_MACHINE_ECALL
  CHECK_REC_ADDR "medeleg all ones: ecall from M: mepc", m_rec, REC_EPC, .Lecall_m2
  CHECK_REC "medeleg all ones: ecall from M not taken in S", s_rec, REC_COUNT, 0
  csrr t1, medeleg
  CHECK_MASKED "medeleg: bits 0-9, 12, 13, 15 writable", t1, 0xb3ff, 0xb3ff
  CHECK_MASKED "medeleg[11] (ecall from M) is read-only zero", t1, 1 << 11, 0
  CHECK_MASKED "medeleg[14] (reserved) is zero", t1, 1 << 14, 0
  csrw medeleg, zero

  /* ==== TSR, TW, TVM and the instructions U may never use (§3.1.6.5) ==== */
  ILLEGAL_IN "sret in U", PRV_U, snip_sret, I_SRET
  ILLEGAL_IN "mret in U", PRV_U, snip_mret, I_MRET
  ILLEGAL_IN "mret in S", PRV_S, snip_mret, I_MRET
  SET_MSTATUS MSTATUS_TSR
  ILLEGAL_IN "sret in S with TSR=1", PRV_S, snip_sret, I_SRET
  CLEAR_MSTATUS MSTATUS_TSR
  /* wfi with nothing that could wake it (mie = 0), so it cannot complete (§3.1.6.5) */
  ILLEGAL_IN "wfi in U (TW=0)", PRV_U, snip_wfi, I_WFI
  SET_MSTATUS MSTATUS_TW
  ILLEGAL_IN "wfi in S with TW=1", PRV_S, snip_wfi, I_WFI
  /* wfi in M with TW=1 is legal: with SSIP pending and enabled in mie (MIE=0) it completes at once */
  li t0, MIP_SSIP
  csrs mie, t0
  csrs mip, t0
  CLEAR_RECS
  wfi
  CHECK_REC "wfi in M with TW=1 and an interrupt pending: no trap", m_rec, REC_COUNT, 0
  CLEAR_MSTATUS MSTATUS_TW
  /* wfi in S with TW=0: SSIP delegated, pending, enabled in sie, SIE=0: wfi completes, no interrupt is taken */
  li t0, MIP_SSIP
  csrw mideleg, t0
  CLEAR_MSTATUS MSTATUS_SIE
  LEGAL_IN "wfi in S (TW=0) with a pending interrupt", PRV_S, snip_wfi
  CHECK_REC "wfi in S (TW=0): nothing taken in S", s_rec, REC_COUNT, 0
  li t0, MIP_SSIP
  csrc mip, t0
  csrw mie, zero
  csrw mideleg, zero
  ILLEGAL_IN "sfence.vma in U", PRV_U, snip_sfence, I_SFENCE
  LEGAL_IN "sfence.vma in S (TVM=0)", PRV_S, snip_sfence
  LEGAL_IN "csrr satp in S (TVM=0)", PRV_S, snip_csrr_satp
  LEGAL_IN "csrw satp in S (TVM=0)", PRV_S, snip_csrw_satp
  SET_MSTATUS MSTATUS_TVM
  ILLEGAL_IN "sfence.vma in S with TVM=1", PRV_S, snip_sfence, I_SFENCE
  ILLEGAL_IN "csrr satp in S with TVM=1", PRV_S, snip_csrr_satp, I_CSRR_A0_SATP
  ILLEGAL_IN "csrw satp in S with TVM=1", PRV_S, snip_csrw_satp, I_CSRW_SATP_ZERO
  CLEAR_RECS
  sfence.vma
  csrr t1, satp
  csrw satp, zero
  CHECK_REC "sfence.vma and satp in M with TVM=1: no trap", m_rec, REC_COUNT, 0
  CLEAR_MSTATUS MSTATUS_TVM

  /* ==== CSR privilege: the CSR number's bits 9:8 give the lowest privilege (§2.1) ==== */
  ILLEGAL_IN "S reads mstatus", PRV_S, snip_csrr_mstatus, I_CSRR_A0_MSTATUS
  ILLEGAL_IN "S reads mscratch", PRV_S, snip_csrr_mscratch, I_CSRR_A0_MSCRATCH
  ILLEGAL_IN "S reads mhartid", PRV_S, snip_csrr_mhartid, I_CSRR_A0_MHARTID
  ILLEGAL_IN "S writes mtvec", PRV_S, snip_csrw_mtvec, I_CSRW_MTVEC_A0
  ILLEGAL_IN "U reads sstatus", PRV_U, snip_csrr_sstatus, I_CSRR_A0_SSTATUS
  ILLEGAL_IN "U reads sscratch", PRV_U, snip_csrr_sscratch, I_CSRR_A0_SSCRATCH
  ILLEGAL_IN "U reads satp", PRV_U, snip_csrr_satp, I_CSRR_A0_SATP
  ILLEGAL_IN "U reads stvec", PRV_U, snip_csrr_stvec, I_CSRR_A0_STVEC
  ILLEGAL_IN "U reads mstatus", PRV_U, snip_csrr_mstatus, I_CSRR_A0_MSTATUS
  LEGAL_IN "S reads sstatus", PRV_S, snip_csrr_sstatus
  li a2, 0x0123456789abcdef
  RUN PRV_S, snip_sscratch_rw
  SNAP t1, 10
  CHECK "S writes and reads sscratch", t1, 0x0123456789abcdef
  csrr t1, sscratch
  CHECK "M sees S's sscratch", t1, 0x0123456789abcdef

  /*
   * ==== counter enables: mcounteren gates S and U, scounteren gates U (§3.1.11, §4.1.5) ====
   * QEMU's spike machine has no time source for the time CSR (its CLINT is created without rdtime), so reading
   * time is illegal there at every privilege: only the cases where the enables alone make it illegal are compared.
   */
  csrw mcounteren, zero
  csrw scounteren, zero
  ILLEGAL_IN "cycle in S, mcounteren=0", PRV_S, snip_cycle, I_CSRR_A0_CYCLE
  ILLEGAL_IN "time in S, mcounteren=0", PRV_S, snip_time, I_CSRR_A0_TIME
  ILLEGAL_IN "instret in S, mcounteren=0", PRV_S, snip_instret, I_CSRR_A0_INSTRET
  ILLEGAL_IN "hpmcounter3 in S, mcounteren=0", PRV_S, snip_hpm3, I_CSRR_A0_HPM3
  ILLEGAL_IN "cycle in U, mcounteren=0", PRV_U, snip_cycle, I_CSRR_A0_CYCLE
  ILLEGAL_IN "time in U, mcounteren=0", PRV_U, snip_time, I_CSRR_A0_TIME
  li t0, 7
  csrw mcounteren, t0
  LEGAL_IN "cycle in S, mcounteren=7", PRV_S, snip_cycle
  LEGAL_IN "instret in S, mcounteren=7", PRV_S, snip_instret
  ILLEGAL_IN "cycle in U, mcounteren=7 scounteren=0", PRV_U, snip_cycle, I_CSRR_A0_CYCLE
  ILLEGAL_IN "time in U, mcounteren=7 scounteren=0", PRV_U, snip_time, I_CSRR_A0_TIME
  ILLEGAL_IN "instret in U, mcounteren=7 scounteren=0", PRV_U, snip_instret, I_CSRR_A0_INSTRET
  li t0, 7
  csrw scounteren, t0
  LEGAL_IN "cycle in U, both 7", PRV_U, snip_cycle
  LEGAL_IN "instret in U, both 7", PRV_U, snip_instret
  li t0, 2
  csrw mcounteren, t0
  ILLEGAL_IN "cycle in S, mcounteren=TM", PRV_S, snip_cycle, I_CSRR_A0_CYCLE
  ILLEGAL_IN "instret in S, mcounteren=TM", PRV_S, snip_instret, I_CSRR_A0_INSTRET
  ILLEGAL_IN "instret in U, mcounteren=TM scounteren=7", PRV_U, snip_instret, I_CSRR_A0_INSTRET
  li t0, 5
  csrw mcounteren, t0
  li t0, 2
  csrw scounteren, t0
  ILLEGAL_IN "time in U, mcounteren=CY|IR scounteren=TM", PRV_U, snip_time, I_CSRR_A0_TIME
  ILLEGAL_IN "cycle in U, mcounteren=CY|IR scounteren=TM", PRV_U, snip_cycle, I_CSRR_A0_CYCLE
  LEGAL_IN "cycle in S, mcounteren=CY|IR", PRV_S, snip_cycle
  li t0, 1
  csrw scounteren, t0
  LEGAL_IN "cycle in U, mcounteren=CY|IR scounteren=CY", PRV_U, snip_cycle
  ILLEGAL_IN "instret in U, mcounteren=CY|IR scounteren=CY", PRV_U, snip_instret, I_CSRR_A0_INSTRET
  li t0, 8
  csrw mcounteren, t0
  LEGAL_IN "hpmcounter3 in S, mcounteren=HPM3", PRV_S, snip_hpm3
  ILLEGAL_IN "hpmcounter3 in U, mcounteren=HPM3 scounteren=CY", PRV_U, snip_hpm3, I_CSRR_A0_HPM3
  csrr t1, mcounteren
  CHECK_MASKED "mcounteren bits 0-31 read back", t1, 0xffffffff, 8
  csrr t1, scounteren
  CHECK_MASKED "scounteren bits 0-31 read back", t1, 0xffffffff, 1

  /* ==== read-only CSRs: any write is illegal, reads (rs1 = x0 or uimm = 0) are not (§2.1) ==== */
  li t0, 7
  csrw mcounteren, t0
  li t0, 7
  csrw scounteren, t0
  ILLEGAL_IN "csrw time in S", PRV_S, snip_csrw_time, I_CSRW_TIME_ZERO
  ILLEGAL_IN "csrw time in U", PRV_U, snip_csrw_time, I_CSRW_TIME_ZERO
  li t0, 0
  ILLEGAL_IN "csrrs a0, cycle, t0 (t0 = 0) in S", PRV_S, snip_csrrs_cycle_t0, I_CSRRS_A0_CYCLE_T0
  LEGAL_IN "csrrsi a0, cycle, 0 in U", PRV_U, snip_csrrsi_cycle_0
  csrw mcounteren, zero
  csrw scounteren, zero

  /* ==== WARL views: mideleg, mie, mip, sie, sip, sstatus (§3.1.9, §4.1.1, §4.1.3) ==== */
  li t0, -1
  csrw mideleg, t0
  csrr t1, mideleg
  CHECK_MASKED "mideleg: SSI, STI, SEI writable; MSI, MTI, MEI read-only zero", t1, 0xaaa, 0x222
  li t0, MIP_SSIP
  csrw mideleg, t0
  li t0, -1
  csrw mie, t0
  csrr t1, mie
  CHECK_MASKED "mie: the six standard bits writable", t1, 0xaaa, 0xaaa
  csrr t1, sie
  CHECK_MASKED "sie shows mie's delegated bits only", t1, 0xaaa, MIP_SSIP
  csrw mie, zero
  li t0, -1
  csrw sie, t0
  csrr t1, mie
  CHECK_MASKED "sie writes reach delegated bits only", t1, 0xaaa, MIP_SSIP
  csrw mie, zero
  li t0, -1
  csrw sip, t0
  csrr t1, mip
  CHECK_MASKED "sip: only SSIP writable (delegated)", t1, 0xaaa, MIP_SSIP
  csrw mip, zero
  csrw mideleg, zero
  li t0, -1
  csrw sip, t0
  csrr t1, mip
  CHECK_MASKED "sip: SSIP not writable when not delegated", t1, 0xaaa, 0
  li t0, MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP | MIP_MEIP
  csrw mip, t0
  csrr t1, mip
  CHECK_MASKED "mip: SSIP, STIP, SEIP writable by M; MSIP, MTIP, MEIP not", t1, 0xaaa, 0x222
  csrw mip, zero
  csrr t1, mip
  CHECK_MASKED "mip: cleared", t1, 0xaaa, 0
  /* sstatus is a view of mstatus: M-only fields neither show nor change through it */
  CLEAR_MSTATUS MSTATUS_TESTED
  SET_MSTATUS MSTATUS_MPIE | MSTATUS_TVM | MSTATUS_MPP_S
  csrr t1, sstatus
  CHECK_MASKED "sstatus hides MPIE, MPP, TVM", t1, MSTATUS_TESTED, 0
  CLEAR_MSTATUS MSTATUS_TVM | MSTATUS_MPIE
  RUN PRV_S, snip_sstatus_all
  SNAP t1, 10
  CHECK_MASKED "sstatus <- all ones in S: SIE SPIE SPP SUM MXR set", t1, MSTATUS_TESTED, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR
  CHECK_MASKED "sstatus.UXL stays 2 (64-bit U) after a write of all ones", t1, 3 << 32, 2 << 32
  la t0, m_rec
  ld t0, REC_STATUS(t0)
  CHECK_MASKED "sstatus writes leave MIE MPIE MPRV TVM TW TSR alone", t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR, 0
  /* put UXL back to 2 in case the write changed it (only the reserved values would differ) */
  csrr t0, mstatus
  li t1, ~(0xf << 32)
  and t0, t0, t1
  li t1, (2 << 32) | (2 << 34)
  or t0, t0, t1
  csrw mstatus, t0
  CLEAR_MSTATUS MSTATUS_TESTED
  /* MPP is WARL over the supported modes: the reserved value 2 cannot be read back (§3.1.6.1) */
  CLEAR_MSTATUS MSTATUS_MPP
  SET_MSTATUS 2 << 11
  csrr t1, mstatus
  li t0, MSTATUS_MPP
  and t1, t1, t0
  li t0, 2 << 11
  xor t1, t1, t0
  seqz t1, t1
  CHECK "mstatus.MPP never reads the reserved value 2", t1, 0
  CLEAR_MSTATUS MSTATUS_MPP
  /* sepc[0] is always zero with IALIGN=16 (§4.1.7) */
  li t0, 0x80000001
  csrw sepc, t0
  csrr t1, sepc
  CHECK "sepc bit 0 reads 0", t1, 0x80000000
  /* stvec/mtvec: modes 0 and 1 only (WARL) */
  la t0, s_vec + 1
  csrw stvec, t0
  csrr t1, stvec
  la t2, s_vec + 1
  CHECK_REGS "stvec: vectored mode kept", t1, t2
  la t0, s_trap
  csrw stvec, t0
TEST_END

  .data
  .balign 16
scratch_data: .dword 0x1111111111111111, 0x2222222222222222
