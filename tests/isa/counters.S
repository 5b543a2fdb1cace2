/*
 * Zicntr counters in M-mode: exact minstret deltas across known sequences (one per retired instruction, compressed
 * ones included; the first csrr counts, the second does not), the instret/cycle shadows, writes to minstret and
 * mcycle, and mcycle monotonicity (its rate is the machine's business). QEMU runs this test with -icount shift=0,
 * without which its minstret follows the host clock.
 */
#include "test.h"

/* DELTA_BEGIN / DELTA_END "name", want: minstret advanced by want between the two (want counts DELTA_BEGIN's csrr). */
.macro DELTA_BEGIN
  csrr s0, minstret
.endm
.macro DELTA_END name:req, want:req
  csrr s1, minstret
  sub s1, s1, s0
  CHECK "\name", s1, \want
.endm

  .text
  .align 2
/* A four-instruction trap handler: resume after a 4-byte instruction. */
tiny_handler:
  csrr t6, mepc
  addi t6, t6, 4
  csrw mepc, t6
  mret

  .align 2
leaf3:
  addi a0, a0, 1
  addi a0, a0, 1
  ret

TEST_BEGIN
  DELTA_BEGIN
  DELTA_END "minstret: back-to-back reads", 1

  DELTA_BEGIN
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  nop
  DELTA_END "minstret: 10 nops", 11

  DELTA_BEGIN
  RVC c.nop
  RVC c.nop
  RVC c.addi a0, 1
  RVC c.li a1, 3
  RVC c.mv a2, a1
  DELTA_END "minstret: 5 compressed", 6

  DELTA_BEGIN
  beq x0, x0, 1f
  nop
  nop
  nop
1:
  DELTA_END "minstret: taken branch", 2

  DELTA_BEGIN
  bne x0, x0, 1f
  nop
  nop
  nop
1:
  DELTA_END "minstret: untaken branch", 5

  DELTA_BEGIN
  li t0, 10
1:
  addi t0, t0, -1
  bnez t0, 1b
  DELTA_END "minstret: 10-iteration loop", 22

  la t0, scratch
  li t1, 5
  DELTA_BEGIN
  ld t2, 0(t0)
  sd t1, 0(t0)
  amoadd.d t2, t1, (t0)
  lr.d t2, (t0)
  sc.d t2, t1, (t0)
  lw t2, 3(t0)
  DELTA_END "minstret: loads, stores, AMO, LR/SC, misaligned load", 7

  li t1, 7
  DELTA_BEGIN
  mul t2, t1, t1
  div t2, t1, x0
  remuw t2, t1, t1
  DELTA_END "minstret: M instructions", 4

  DELTA_BEGIN
  fence
  fence.i
  fence rw, rw
  DELTA_END "minstret: fences", 4

  li a0, 0
  DELTA_BEGIN
  call leaf3
  DELTA_END "minstret: call and 3-instruction leaf", 5

  DELTA_BEGIN
  csrr t0, mscratch
  csrw mscratch, t0
  csrrsi t0, mscratch, 0
  DELTA_END "minstret: CSR instructions", 4

  /* instret shadows minstret; cycle shadows mcycle */
  csrr t0, minstret
  csrr t1, instret
  sub t1, t1, t0
  CHECK "instret = minstret + 1 one instruction later", t1, 1
  csrr t0, mcycle
  csrr t1, cycle
  sltu t2, t1, t0
  CHECK "cycle >= mcycle read before it", t2, 0

  /* writes: the next read sees the written value, plus at most the writing instruction itself */
  li t0, 1000
  csrw minstret, t0
  csrr t1, minstret
  addi t1, t1, -1000
  sltiu t1, t1, 2
  CHECK "minstret write 1000 then read in [1000, 1001]", t1, 1
  li t0, 0xffffffff
  csrw minstret, t0
  csrr t1, minstret
  sub t1, t1, t0
  sltiu t1, t1, 2
  CHECK "minstret is 64 bits: 0xffffffff then read in [0xffffffff, 0x100000000]", t1, 1
  li t0, -1
  csrw minstret, t0
  csrr t1, minstret
  addi t1, t1, 1
  sltiu t1, t1, 2
  CHECK "minstret wraps: all ones then read in [-1, 0]", t1, 1
  DELTA_BEGIN
  nop
  DELTA_END "minstret counts after writes", 2

  /* traps: ecall and an illegal instruction through a 4-instruction handler */
  csrr s2, mtvec
  la t0, tiny_handler
  csrw mtvec, t0
  DELTA_BEGIN
  ecall
  csrr s1, minstret
  sub s1, s1, s0
  addi s1, s1, -5
  sltiu s1, s1, 2
  DELTA_BEGIN
  .word 0x0000000b
  csrr s3, minstret
  sub s3, s3, s0
  csrw mtvec, s2
  CHECK "minstret across ecall + 4-instruction handler: 5, or 6 if the ecall counts", s1, 1
  CHECK "minstret across an illegal instruction + handler: 5 (it does not retire)", s3, 5

  /* mcycle is monotonic and moves while 300 instructions run; a write takes effect */
  csrr s0, mcycle
  li t0, 100
1:
  addi t0, t0, -1
  bnez t0, 1b
  csrr s1, mcycle
  sltu t2, s0, s1
  CHECK "mcycle increases over a 100-iteration loop", t2, 1
  csrr s0, mcycle
  csrr s1, mcycle
  sltu t2, s1, s0
  CHECK "mcycle never goes backwards", t2, 0
  csrw mcycle, zero
  csrr s1, mcycle
  li t0, 100000
  sltu t2, s1, t0
  CHECK "mcycle write 0 then read < 100000", t2, 1
TEST_END

  .data
  .align 3
scratch: .dword 0, 0
