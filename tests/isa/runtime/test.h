/*
 * Macros for the ISA test programs (see crt.S): checks that print "ok NAME" / "FAIL NAME: ...", trap expectations,
 * and a non-destructive register dump. Every macro preserves all registers except where it says otherwise, and
 * assembles its own code without RVC so that tests choose exactly where compressed instructions appear.
 */
#ifndef POPEK_ISA_TEST_H
#define POPEK_ISA_TEST_H

/* Offsets into trap_rec (crt.S). */
#define TRAP_MCAUSE 0
#define TRAP_MEPC 8
#define TRAP_MTVAL 16
#define TRAP_COUNT 24
#define TRAP_RESUME 32
#define TRAP_MSTATUS 40

/* Trap causes (privileged spec, Table 3.6). */
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_MISALIGNED_LOAD 4
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_MACHINE_ECALL 11

#define INT64_MIN 0x8000000000000000
#define INT64_MAX 0x7fffffffffffffff

#ifdef __ASSEMBLER__

/* The whole test is main(); it returns through TEST_END with 0 iff every check passed. */
.macro TEST_BEGIN
  .option norvc
  .text
  .global main
main:
  addi sp, sp, -16
  sd ra, 0(sp)
.endm

.macro TEST_END
  .option push
  .option norvc
  call test_summary
  ld ra, 0(sp)
  addi sp, sp, 16
  ret
  .option pop
.endm

/* A NUL-terminated name in .rodata, at label \lbl. */
.macro NAME lbl:req, text:req
  .pushsection .rodata
\lbl: .asciz "\text"
  .popsection
.endm

/* CHECK "name", reg, want: reg (not sp) must equal the 64-bit constant want. */
.macro CHECK name:req, reg:req, want:req
  .option push
  .option norvc
  addi sp, sp, -32
  sd ra, 0(sp)
  sd a0, 8(sp)
  sd a1, 16(sp)
  sd a2, 24(sp)
  mv a1, \reg
  li a2, \want
  la a0, .Lcheck_name\@
  call check_eq
  ld ra, 0(sp)
  ld a0, 8(sp)
  ld a1, 16(sp)
  ld a2, 24(sp)
  addi sp, sp, 32
  .option pop
  NAME .Lcheck_name\@, "\name"
.endm

/* CHECK_REGS "name", reg, wantreg: reg must equal register wantreg (neither sp). */
.macro CHECK_REGS name:req, reg:req, wantreg:req
  .option push
  .option norvc
  addi sp, sp, -32
  sd ra, 0(sp)
  sd a0, 8(sp)
  sd a1, 16(sp)
  sd a2, 24(sp)
  mv a1, \reg
  mv a2, \wantreg
  .ifc \wantreg, a1
  ld a2, 16(sp)
  .endif
  la a0, .Lcheck_name\@
  call check_eq
  ld ra, 0(sp)
  ld a0, 8(sp)
  ld a1, 16(sp)
  ld a2, 24(sp)
  addi sp, sp, 32
  .option pop
  NAME .Lcheck_name\@, "\name"
.endm

/* CHECK_TRAP "name", cause, epc_label, tval: exactly one such trap since the last CHECK_TRAP*; resets the record. */
.macro CHECK_TRAP name:req, cause:req, epc:req, tval:req
  .option push
  .option norvc
  addi sp, sp, -48
  sd ra, 0(sp)
  sd a0, 8(sp)
  sd a1, 16(sp)
  sd a2, 24(sp)
  sd a3, 32(sp)
  li a1, \cause
  la a2, \epc
  li a3, \tval
  la a0, .Lcheck_name\@
  call check_trap
  ld ra, 0(sp)
  ld a0, 8(sp)
  ld a1, 16(sp)
  ld a2, 24(sp)
  ld a3, 32(sp)
  addi sp, sp, 48
  .option pop
  NAME .Lcheck_name\@, "\name"
.endm

/* CHECK_TRAP_ADDR: as CHECK_TRAP, but tval is an address expression (a faulting data address). */
.macro CHECK_TRAP_ADDR name:req, cause:req, epc:req, tval:req
  .option push
  .option norvc
  addi sp, sp, -48
  sd ra, 0(sp)
  sd a0, 8(sp)
  sd a1, 16(sp)
  sd a2, 24(sp)
  sd a3, 32(sp)
  li a1, \cause
  la a2, \epc
  la a3, \tval
  la a0, .Lcheck_name\@
  call check_trap
  ld ra, 0(sp)
  ld a0, 8(sp)
  ld a1, 16(sp)
  ld a2, 24(sp)
  ld a3, 32(sp)
  addi sp, sp, 48
  .option pop
  NAME .Lcheck_name\@, "\name"
.endm

/*
 * CHECK_TRAP_EBREAK "name", epc_label: one breakpoint trap at epc_label. mtval may be 0 or the breakpoint's address
 * (privileged spec 3.1.16: mtval is "either set to zero or written with" the faulting address), so both pass.
 */
.macro CHECK_TRAP_EBREAK name:req, epc:req
  .option push
  .option norvc
  addi sp, sp, -48
  sd ra, 0(sp)
  sd a0, 8(sp)
  sd a1, 16(sp)
  sd a2, 24(sp)
  sd a3, 32(sp)
  li a1, CAUSE_BREAKPOINT
  la a2, \epc
  la a3, trap_rec
  ld a3, TRAP_MTVAL(a3)
  beq a3, a2, .Lebreak_tval\@
  li a3, 0
.Lebreak_tval\@:
  la a0, .Lcheck_name\@
  call check_trap
  ld ra, 0(sp)
  ld a0, 8(sp)
  ld a1, 16(sp)
  ld a2, 24(sp)
  ld a3, 32(sp)
  addi sp, sp, 48
  .option pop
  NAME .Lcheck_name\@, "\name"
.endm

/* CHECK_NO_TRAP "name": no trap since the last check. */
.macro CHECK_NO_TRAP name:req
  .option push
  .option norvc
  addi sp, sp, -32
  sd ra, 0(sp)
  sd a0, 8(sp)
  sd a1, 16(sp)
  sd a2, 24(sp)
  la a1, trap_rec
  ld a1, TRAP_COUNT(a1)
  li a2, 0
  la a0, .Lcheck_name\@
  call check_eq
  ld ra, 0(sp)
  ld a0, 8(sp)
  ld a1, 16(sp)
  ld a2, 24(sp)
  addi sp, sp, 32
  .option pop
  NAME .Lcheck_name\@, "\name"
.endm

/* RESUME_AT label: the next trap returns to label instead of the following instruction. Clobbers nothing. */
.macro RESUME_AT lbl:req
  .option push
  .option norvc
  addi sp, sp, -16
  sd t0, 0(sp)
  sd t1, 8(sp)
  la t0, trap_rec
  la t1, \lbl
  sd t1, TRAP_RESUME(t0)
  ld t0, 0(sp)
  ld t1, 8(sp)
  addi sp, sp, 16
  .option pop
.endm

/*
 * DUMP_REGS "label": prints "dump label" and x1..x31 (sp as it was before the macro). Non-destructive; uses 272
 * bytes below sp.
 */
.macro DUMP_REGS label:req
  .option push
  .option norvc
  addi sp, sp, -272
  sd x1, 8(sp)
  sd x3, 24(sp)
  sd x4, 32(sp)
  sd x5, 40(sp)
  sd x6, 48(sp)
  sd x7, 56(sp)
  sd x8, 64(sp)
  sd x9, 72(sp)
  sd x10, 80(sp)
  sd x11, 88(sp)
  sd x12, 96(sp)
  sd x13, 104(sp)
  sd x14, 112(sp)
  sd x15, 120(sp)
  sd x16, 128(sp)
  sd x17, 136(sp)
  sd x18, 144(sp)
  sd x19, 152(sp)
  sd x20, 160(sp)
  sd x21, 168(sp)
  sd x22, 176(sp)
  sd x23, 184(sp)
  sd x24, 192(sp)
  sd x25, 200(sp)
  sd x26, 208(sp)
  sd x27, 216(sp)
  sd x28, 224(sp)
  sd x29, 232(sp)
  sd x30, 240(sp)
  sd x31, 248(sp)
  addi x1, sp, 272
  sd x1, 16(sp)
  la a0, .Ldump_name\@
  call dump_saved
  ld x1, 8(sp)
  addi sp, sp, 272
  .option pop
  NAME .Ldump_name\@, "\label"
.endm


/*
 * Instruction-level checks. They clobber t0-t2 (sources in t0/t1, result in t2) and name the check after the
 * instruction and its operands as written.
 */

/* TEST_RR op, a, b, want: op t2, t0, t1. */
.macro TEST_RR op:req, a:req, b:req, want:req
  li t0, \a
  li t1, \b
  \op t2, t0, t1
  CHECK "\op \a \b", t2, \want
.endm

/* TEST_RR_ALIAS op, a, b, want, wantaa: rd = rs1, rd = rs2, rd = rs1 = rs2 (giving wantaa), and rd = x0 forms. */
.macro TEST_RR_ALIAS op:req, a:req, b:req, want:req, wantaa:req
  li t0, \a
  li t1, \b
  \op t0, t0, t1
  CHECK "\op rd=rs1 \a \b", t0, \want
  li t0, \a
  li t1, \b
  \op t1, t0, t1
  CHECK "\op rd=rs2 \a \b", t1, \want
  li t0, \a
  \op t0, t0, t0
  CHECK "\op rd=rs1=rs2 \a", t0, \wantaa
  li t0, \a
  li t1, \b
  \op x0, t0, t1
  CHECK "\op rd=x0 \a \b", x0, 0
.endm

/* TEST_RI op, a, imm, want: op t2, t0, imm. */
.macro TEST_RI op:req, a:req, imm:req, want:req
  li t0, \a
  \op t2, t0, \imm
  CHECK "\op \a \imm", t2, \want
.endm

/* TEST_RI_ALIAS op, a, imm, want: rd = rs1 and rd = x0 forms. */
.macro TEST_RI_ALIAS op:req, a:req, imm:req, want:req
  li t0, \a
  \op t0, t0, \imm
  CHECK "\op rd=rs1 \a \imm", t0, \want
  li t0, \a
  \op x0, t0, \imm
  CHECK "\op rd=x0 \a \imm", x0, 0
.endm

/* RVC insn...: assemble one instruction with RVC enabled and insist that it is 2 bytes long. */
.macro RVC insn:vararg
  .option push
  .option rvc
.Lrvc_start\@:
  \insn
.Lrvc_end\@:
  .option pop
  .if .Lrvc_end\@ - .Lrvc_start\@ - 2
  .error "RVC: not a 2-byte instruction"
  .endif
.endm

/* RVC_BRANCH insn...: c.j / c.beqz / c.bnez to a label (no size check: not constant at assembly time). */
.macro RVC_BRANCH insn:vararg
  .option push
  .option rvc
  \insn
  .option pop
.endm

/* Test files are assembled without RVC; compressed instructions appear only through RVC / RVC_BRANCH / .option rvc. */
  .option norvc

#endif /* __ASSEMBLER__ */
#endif /* POPEK_ISA_TEST_H */
