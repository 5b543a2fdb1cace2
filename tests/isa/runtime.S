/*
 * Self-test of the test runtime (runtime/crt.S, runtime/test.h): DUMP_REGS prints every register and changes none,
 * the trap handler records mcause/mepc/mtval and counts traps, RESUME_AT redirects the return, CHECK/CHECK_TRAP
 * preserve registers. isa.test.ts also parses the "dump known" block and checks each printed value.
 */
#include "test.h"

TEST_BEGIN
  /* x_i = 0x0101010101010101 * i, except sp */
  li x1, 0x0101010101010101
  li x3, 0x0303030303030303
  li x4, 0x0404040404040404
  li x5, 0x0505050505050505
  li x6, 0x0606060606060606
  li x7, 0x0707070707070707
  li x8, 0x0808080808080808
  li x9, 0x0909090909090909
  li x10, 0x0a0a0a0a0a0a0a0a
  li x11, 0x0b0b0b0b0b0b0b0b
  li x12, 0x0c0c0c0c0c0c0c0c
  li x13, 0x0d0d0d0d0d0d0d0d
  li x14, 0x0e0e0e0e0e0e0e0e
  li x15, 0x0f0f0f0f0f0f0f0f
  li x16, 0x1010101010101010
  li x17, 0x1111111111111111
  li x18, 0x1212121212121212
  li x19, 0x1313131313131313
  li x20, 0x1414141414141414
  li x21, 0x1515151515151515
  li x22, 0x1616161616161616
  li x23, 0x1717171717171717
  li x24, 0x1818181818181818
  li x25, 0x1919191919191919
  li x26, 0x1a1a1a1a1a1a1a1a
  li x27, 0x1b1b1b1b1b1b1b1b
  li x28, 0x1c1c1c1c1c1c1c1c
  li x29, 0x1d1d1d1d1d1d1d1d
  li x30, 0x1e1e1e1e1e1e1e1e
  li x31, 0xffffffffffffffff
  csrw mscratch, sp
  DUMP_REGS "known"
  CHECK "DUMP_REGS keeps ra", x1, 0x0101010101010101
  CHECK "DUMP_REGS keeps gp", x3, 0x0303030303030303
  CHECK "DUMP_REGS keeps tp", x4, 0x0404040404040404
  CHECK "DUMP_REGS keeps t0", x5, 0x0505050505050505
  CHECK "DUMP_REGS keeps t1", x6, 0x0606060606060606
  CHECK "DUMP_REGS keeps t2", x7, 0x0707070707070707
  CHECK "DUMP_REGS keeps s0", x8, 0x0808080808080808
  CHECK "DUMP_REGS keeps s1", x9, 0x0909090909090909
  CHECK "DUMP_REGS keeps a0", x10, 0x0a0a0a0a0a0a0a0a
  CHECK "DUMP_REGS keeps a1", x11, 0x0b0b0b0b0b0b0b0b
  CHECK "DUMP_REGS keeps a2", x12, 0x0c0c0c0c0c0c0c0c
  CHECK "DUMP_REGS keeps a3", x13, 0x0d0d0d0d0d0d0d0d
  CHECK "DUMP_REGS keeps a4", x14, 0x0e0e0e0e0e0e0e0e
  CHECK "DUMP_REGS keeps a5", x15, 0x0f0f0f0f0f0f0f0f
  CHECK "DUMP_REGS keeps a6", x16, 0x1010101010101010
  CHECK "DUMP_REGS keeps a7", x17, 0x1111111111111111
  CHECK "DUMP_REGS keeps s2", x18, 0x1212121212121212
  CHECK "DUMP_REGS keeps s3", x19, 0x1313131313131313
  CHECK "DUMP_REGS keeps s4", x20, 0x1414141414141414
  CHECK "DUMP_REGS keeps s5", x21, 0x1515151515151515
  CHECK "DUMP_REGS keeps s6", x22, 0x1616161616161616
  CHECK "DUMP_REGS keeps s7", x23, 0x1717171717171717
  CHECK "DUMP_REGS keeps s8", x24, 0x1818181818181818
  CHECK "DUMP_REGS keeps s9", x25, 0x1919191919191919
  CHECK "DUMP_REGS keeps s10", x26, 0x1a1a1a1a1a1a1a1a
  CHECK "DUMP_REGS keeps s11", x27, 0x1b1b1b1b1b1b1b1b
  CHECK "DUMP_REGS keeps t3", x28, 0x1c1c1c1c1c1c1c1c
  CHECK "DUMP_REGS keeps t4", x29, 0x1d1d1d1d1d1d1d1d
  CHECK "DUMP_REGS keeps t5", x30, 0x1e1e1e1e1e1e1e1e
  CHECK "DUMP_REGS keeps t6", x31, 0xffffffffffffffff
  csrr a0, mscratch
  mv a1, sp
  CHECK_REGS "DUMP_REGS keeps sp", a1, a0

  /* the trap handler keeps every register, records the trap and counts it */
.Lrt_ecall:
  ecall
  CHECK "trap handler keeps t0", t0, 0x0505050505050505
  CHECK "trap handler keeps t1", t1, 0x0606060606060606
  CHECK "trap handler keeps t2", t2, 0x0707070707070707
  csrr a0, mscratch
  mv a1, sp
  CHECK_REGS "trap handler keeps sp", a1, a0
  la t0, trap_rec
  ld a0, TRAP_COUNT(t0)
  CHECK "trap count 1", a0, 1
  ld a0, TRAP_MCAUSE(t0)
  CHECK "recorded mcause", a0, CAUSE_MACHINE_ECALL
  ld a0, TRAP_MEPC(t0)
  la a1, .Lrt_ecall
  CHECK_REGS "recorded mepc", a0, a1
  ld a0, TRAP_MTVAL(t0)
  CHECK "recorded mtval", a0, 0
  CHECK_TRAP "CHECK_TRAP accepts the same trap", CAUSE_MACHINE_ECALL, .Lrt_ecall, 0
  la t0, trap_rec
  ld a0, TRAP_COUNT(t0)
  CHECK "CHECK_TRAP clears the count", a0, 0

  /* two traps count 2; RESUME_AT sends the handler's mret elsewhere */
  ecall
  ecall
  la t0, trap_rec
  ld a0, TRAP_COUNT(t0)
  sd zero, TRAP_COUNT(t0)
  CHECK "two traps counted", a0, 2
  li a0, 0
  RESUME_AT .Lrt_resume
.Lrt_ill:
  .word 0x0000000b
  li a0, 1                  /* skipped by RESUME_AT */
.Lrt_resume:
  CHECK "RESUME_AT skips to its label", a0, 0
  CHECK_TRAP "illegal instruction before RESUME_AT", CAUSE_ILLEGAL_INSTRUCTION, .Lrt_ill, 0x0000000b
  li a0, 0
.Lrt_ecall2:
  ecall
  li a0, 1
  CHECK "RESUME_AT is one-shot: the next trap resumes after the instruction", a0, 1
  CHECK_TRAP "the next trap", CAUSE_MACHINE_ECALL, .Lrt_ecall2, 0
  CHECK_NO_TRAP "no trap left over"
TEST_END
