/*
 * RV64I control transfer: every conditional branch taken and not taken, forwards and backwards, over signed and
 * unsigned edge values; jal and jalr link values, jalr's cleared low bit, rd = rs1, and rd = x0 (unprivileged
 * spec, section 2.5).
 */
#include "test.h"

/* TEST_BR op, a, b, taken: forward branch; t2 = 2 if taken, 1 if not. */
.macro TEST_BR op:req, a:req, b:req, taken:req
  li t0, \a
  li t1, \b
  li t2, 0
  \op t0, t1, 1f
  li t2, 1
  j 2f
1:
  li t2, 2
2:
  CHECK "\op fwd \a \b", t2, 1 + \taken
.endm

/* TEST_BR_BACK op, a, b, taken: the same with a backward branch target. */
.macro TEST_BR_BACK op:req, a:req, b:req, taken:req
  li t0, \a
  li t1, \b
  li t2, 0
  j 3f
1:
  li t2, 2
  j 2f
3:
  \op t0, t1, 1b
  li t2, 1
2:
  CHECK "\op back \a \b", t2, 1 + \taken
.endm

TEST_BEGIN
  /* beq */
  TEST_BR beq, 0x0, 0x0, 1
  TEST_BR beq, 0x1, 0x0, 0
  TEST_BR beq, 0x0, 0x1, 0
  TEST_BR beq, 0xffffffffffffffff, 0x0, 0
  TEST_BR beq, 0x0, 0xffffffffffffffff, 0
  TEST_BR beq, 0xffffffffffffffff, 0xffffffffffffffff, 1
  TEST_BR beq, 0xffffffffffffffff, 0x1, 0
  TEST_BR beq, 0x1, 0xffffffffffffffff, 0
  TEST_BR beq, 0x8000000000000000, 0x7fffffffffffffff, 0
  TEST_BR beq, 0x7fffffffffffffff, 0x8000000000000000, 0
  TEST_BR beq, 0x8000000000000000, 0x8000000000000000, 1
  TEST_BR beq, 0x80000000, 0x7fffffff, 0
  TEST_BR beq, 0xffffffff, 0xffffffff80000000, 0
  TEST_BR beq, 0x100000000, 0x1, 0
  TEST_BR beq, 0xfffffffffffffffe, 0xffffffffffffffff, 0
  TEST_BR_BACK beq, 0x0, 0x0, 1
  TEST_BR_BACK beq, 0x1, 0x0, 0
  TEST_BR_BACK beq, 0x0, 0x1, 0
  TEST_BR_BACK beq, 0xffffffffffffffff, 0x0, 0
  TEST_BR_BACK beq, 0x0, 0xffffffffffffffff, 0
  TEST_BR_BACK beq, 0xffffffffffffffff, 0xffffffffffffffff, 1
  li t0, 5
  beq t0, t0, 1f
  li t2, 1
  j 2f
1:
  li t2, 2
2:
  CHECK "beq rs1=rs2", t2, 2
  /* bne */
  TEST_BR bne, 0x0, 0x0, 0
  TEST_BR bne, 0x1, 0x0, 1
  TEST_BR bne, 0x0, 0x1, 1
  TEST_BR bne, 0xffffffffffffffff, 0x0, 1
  TEST_BR bne, 0x0, 0xffffffffffffffff, 1
  TEST_BR bne, 0xffffffffffffffff, 0xffffffffffffffff, 0
  TEST_BR bne, 0xffffffffffffffff, 0x1, 1
  TEST_BR bne, 0x1, 0xffffffffffffffff, 1
  TEST_BR bne, 0x8000000000000000, 0x7fffffffffffffff, 1
  TEST_BR bne, 0x7fffffffffffffff, 0x8000000000000000, 1
  TEST_BR bne, 0x8000000000000000, 0x8000000000000000, 0
  TEST_BR bne, 0x80000000, 0x7fffffff, 1
  TEST_BR bne, 0xffffffff, 0xffffffff80000000, 1
  TEST_BR bne, 0x100000000, 0x1, 1
  TEST_BR bne, 0xfffffffffffffffe, 0xffffffffffffffff, 1
  TEST_BR_BACK bne, 0x0, 0x0, 0
  TEST_BR_BACK bne, 0x1, 0x0, 1
  TEST_BR_BACK bne, 0x0, 0x1, 1
  TEST_BR_BACK bne, 0xffffffffffffffff, 0x0, 1
  TEST_BR_BACK bne, 0x0, 0xffffffffffffffff, 1
  TEST_BR_BACK bne, 0xffffffffffffffff, 0xffffffffffffffff, 0
  li t0, 5
  bne t0, t0, 1f
  li t2, 1
  j 2f
1:
  li t2, 2
2:
  CHECK "bne rs1=rs2", t2, 1
  /* blt */
  TEST_BR blt, 0x0, 0x0, 0
  TEST_BR blt, 0x1, 0x0, 0
  TEST_BR blt, 0x0, 0x1, 1
  TEST_BR blt, 0xffffffffffffffff, 0x0, 1
  TEST_BR blt, 0x0, 0xffffffffffffffff, 0
  TEST_BR blt, 0xffffffffffffffff, 0xffffffffffffffff, 0
  TEST_BR blt, 0xffffffffffffffff, 0x1, 1
  TEST_BR blt, 0x1, 0xffffffffffffffff, 0
  TEST_BR blt, 0x8000000000000000, 0x7fffffffffffffff, 1
  TEST_BR blt, 0x7fffffffffffffff, 0x8000000000000000, 0
  TEST_BR blt, 0x8000000000000000, 0x8000000000000000, 0
  TEST_BR blt, 0x80000000, 0x7fffffff, 0
  TEST_BR blt, 0xffffffff, 0xffffffff80000000, 0
  TEST_BR blt, 0x100000000, 0x1, 0
  TEST_BR blt, 0xfffffffffffffffe, 0xffffffffffffffff, 1
  TEST_BR_BACK blt, 0x0, 0x0, 0
  TEST_BR_BACK blt, 0x1, 0x0, 0
  TEST_BR_BACK blt, 0x0, 0x1, 1
  TEST_BR_BACK blt, 0xffffffffffffffff, 0x0, 1
  TEST_BR_BACK blt, 0x0, 0xffffffffffffffff, 0
  TEST_BR_BACK blt, 0xffffffffffffffff, 0xffffffffffffffff, 0
  li t0, 5
  blt t0, t0, 1f
  li t2, 1
  j 2f
1:
  li t2, 2
2:
  CHECK "blt rs1=rs2", t2, 1
  /* bge */
  TEST_BR bge, 0x0, 0x0, 1
  TEST_BR bge, 0x1, 0x0, 1
  TEST_BR bge, 0x0, 0x1, 0
  TEST_BR bge, 0xffffffffffffffff, 0x0, 0
  TEST_BR bge, 0x0, 0xffffffffffffffff, 1
  TEST_BR bge, 0xffffffffffffffff, 0xffffffffffffffff, 1
  TEST_BR bge, 0xffffffffffffffff, 0x1, 0
  TEST_BR bge, 0x1, 0xffffffffffffffff, 1
  TEST_BR bge, 0x8000000000000000, 0x7fffffffffffffff, 0
  TEST_BR bge, 0x7fffffffffffffff, 0x8000000000000000, 1
  TEST_BR bge, 0x8000000000000000, 0x8000000000000000, 1
  TEST_BR bge, 0x80000000, 0x7fffffff, 1
  TEST_BR bge, 0xffffffff, 0xffffffff80000000, 1
  TEST_BR bge, 0x100000000, 0x1, 1
  TEST_BR bge, 0xfffffffffffffffe, 0xffffffffffffffff, 0
  TEST_BR_BACK bge, 0x0, 0x0, 1
  TEST_BR_BACK bge, 0x1, 0x0, 1
  TEST_BR_BACK bge, 0x0, 0x1, 0
  TEST_BR_BACK bge, 0xffffffffffffffff, 0x0, 0
  TEST_BR_BACK bge, 0x0, 0xffffffffffffffff, 1
  TEST_BR_BACK bge, 0xffffffffffffffff, 0xffffffffffffffff, 1
  li t0, 5
  bge t0, t0, 1f
  li t2, 1
  j 2f
1:
  li t2, 2
2:
  CHECK "bge rs1=rs2", t2, 2
  /* bltu */
  TEST_BR bltu, 0x0, 0x0, 0
  TEST_BR bltu, 0x1, 0x0, 0
  TEST_BR bltu, 0x0, 0x1, 1
  TEST_BR bltu, 0xffffffffffffffff, 0x0, 0
  TEST_BR bltu, 0x0, 0xffffffffffffffff, 1
  TEST_BR bltu, 0xffffffffffffffff, 0xffffffffffffffff, 0
  TEST_BR bltu, 0xffffffffffffffff, 0x1, 0
  TEST_BR bltu, 0x1, 0xffffffffffffffff, 1
  TEST_BR bltu, 0x8000000000000000, 0x7fffffffffffffff, 0
  TEST_BR bltu, 0x7fffffffffffffff, 0x8000000000000000, 1
  TEST_BR bltu, 0x8000000000000000, 0x8000000000000000, 0
  TEST_BR bltu, 0x80000000, 0x7fffffff, 0
  TEST_BR bltu, 0xffffffff, 0xffffffff80000000, 1
  TEST_BR bltu, 0x100000000, 0x1, 0
  TEST_BR bltu, 0xfffffffffffffffe, 0xffffffffffffffff, 1
  TEST_BR_BACK bltu, 0x0, 0x0, 0
  TEST_BR_BACK bltu, 0x1, 0x0, 0
  TEST_BR_BACK bltu, 0x0, 0x1, 1
  TEST_BR_BACK bltu, 0xffffffffffffffff, 0x0, 0
  TEST_BR_BACK bltu, 0x0, 0xffffffffffffffff, 1
  TEST_BR_BACK bltu, 0xffffffffffffffff, 0xffffffffffffffff, 0
  li t0, 5
  bltu t0, t0, 1f
  li t2, 1
  j 2f
1:
  li t2, 2
2:
  CHECK "bltu rs1=rs2", t2, 1
  /* bgeu */
  TEST_BR bgeu, 0x0, 0x0, 1
  TEST_BR bgeu, 0x1, 0x0, 1
  TEST_BR bgeu, 0x0, 0x1, 0
  TEST_BR bgeu, 0xffffffffffffffff, 0x0, 1
  TEST_BR bgeu, 0x0, 0xffffffffffffffff, 0
  TEST_BR bgeu, 0xffffffffffffffff, 0xffffffffffffffff, 1
  TEST_BR bgeu, 0xffffffffffffffff, 0x1, 1
  TEST_BR bgeu, 0x1, 0xffffffffffffffff, 0
  TEST_BR bgeu, 0x8000000000000000, 0x7fffffffffffffff, 1
  TEST_BR bgeu, 0x7fffffffffffffff, 0x8000000000000000, 0
  TEST_BR bgeu, 0x8000000000000000, 0x8000000000000000, 1
  TEST_BR bgeu, 0x80000000, 0x7fffffff, 1
  TEST_BR bgeu, 0xffffffff, 0xffffffff80000000, 0
  TEST_BR bgeu, 0x100000000, 0x1, 1
  TEST_BR bgeu, 0xfffffffffffffffe, 0xffffffffffffffff, 0
  TEST_BR_BACK bgeu, 0x0, 0x0, 1
  TEST_BR_BACK bgeu, 0x1, 0x0, 1
  TEST_BR_BACK bgeu, 0x0, 0x1, 0
  TEST_BR_BACK bgeu, 0xffffffffffffffff, 0x0, 1
  TEST_BR_BACK bgeu, 0x0, 0xffffffffffffffff, 0
  TEST_BR_BACK bgeu, 0xffffffffffffffff, 0xffffffffffffffff, 1
  li t0, 5
  bgeu t0, t0, 1f
  li t2, 1
  j 2f
1:
  li t2, 2
2:
  CHECK "bgeu rs1=rs2", t2, 2

  /* jal: rd = pc + 4, forwards and backwards */
.Ljal1:
  jal t2, .Ljal1_target
  li t0, 1                  /* skipped */
.Ljal1_target:
  la t0, .Ljal1 + 4
  CHECK_REGS "jal fwd link", t2, t0
  j .Ljal2_start
.Ljal2_target:
  la t1, .Ljal2 + 4
  CHECK_REGS "jal back link", t2, t1
  j .Ljal2_done
.Ljal2_start:
  li t0, 0
.Ljal2:
  jal t2, .Ljal2_target
  li t0, 99                 /* never reached */
.Ljal2_done:
  CHECK "jal back skipped", t0, 0
  li t2, 0
  jal x0, 1f
  li t2, 1
1:
  CHECK "jal rd=x0 (j)", t2, 0
  CHECK "jal rd=x0 keeps x0", x0, 0

  /* jalr: target = (rs1 + imm) & ~1, rd = pc + 4 */
  la t0, .Ljalr1_target
.Ljalr1:
  jalr t2, 0(t0)
  li t0, 99
.Ljalr1_target:
  la t1, .Ljalr1 + 4
  CHECK_REGS "jalr link", t2, t1
  la t0, .Ljalr2_target + 1
.Ljalr2:
  jalr t2, 0(t0)
  li t2, 99
.Ljalr2_target:
  la t1, .Ljalr2 + 4
  CHECK_REGS "jalr clears bit 0", t2, t1
  la t0, .Ljalr3_target + 16
.Ljalr3:
  jalr t2, -16(t0)
  li t2, 99
.Ljalr3_target:
  la t1, .Ljalr3 + 4
  CHECK_REGS "jalr negative offset", t2, t1
  la t0, .Ljalr4_target - 5
.Ljalr4:
  jalr t2, 5(t0)
  li t2, 99
.Ljalr4_target:
  la t1, .Ljalr4 + 4
  CHECK_REGS "jalr odd sum", t2, t1
  la t0, .Ljalr5_target
.Ljalr5:
  jalr t0, 0(t0)
  li t0, 99
.Ljalr5_target:
  la t1, .Ljalr5 + 4
  CHECK_REGS "jalr rd=rs1 uses old rs1", t0, t1
  la t0, .Ljalr6_target
  li t2, 0
  jalr x0, 0(t0)
  li t2, 1
.Ljalr6_target:
  CHECK "jalr rd=x0 (jr)", t2, 0
  CHECK "jalr rd=x0 keeps x0", x0, 0

  /* call/ret through ra */
  li a0, 0
  call .Lsub
  CHECK "call/ret", a0, 7
TEST_END

.Lsub:
  li a0, 7
  ret

