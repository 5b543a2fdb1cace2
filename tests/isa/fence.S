/*
 * FENCE variants and Zifencei: fence.i makes stores to instruction memory visible to fetch. Code is patched with
 * sw, sh and amoswap.w, in a routine that has already run many times (so a translating machine has it cached) and
 * a few instructions ahead of the store in the same straight-line block (unprivileged spec chapters 2.7 and 3).
 */
#include "test.h"

/* Encodings written at run time. */
#define ADDI_A0_ZERO_1 0x00100513   /* addi a0, zero, 1 */
#define ADDI_A0_ZERO_2 0x00200513   /* addi a0, zero, 2 */
#define ADDI_A0_ZERO_42 0x02a00513  /* addi a0, zero, 42 */
#define ADDI_A0_A0_100 0x06450513   /* addi a0, a0, 100 */
#define C_LI_A0_7 0x451d            /* c.li a0, 7 */
#define C_LI_A0_9 0x4525            /* c.li a0, 9 */

  .text
  .align 2
/* slot32() -> a0: its first instruction is rewritten by the tests. */
slot32:
  addi a0, zero, 1
  ret

  .align 2
/* slot16() -> a0: a 2-byte first instruction, rewritten by the tests. */
slot16:
  .option push
  .option rvc
  c.li a0, 5
  c.jr ra
  .option pop

TEST_BEGIN
  /* every FENCE form executes as an ordering no-op here */
  li a0, 3
  fence
  fence rw, rw
  fence r, r
  fence w, w
  fence iorw, iorw
  fence i, o
  fence.tso
  .word 0x0100000f          /* pause (fence w, 0) */
  fence.i
  CHECK "fences change no register", a0, 3
  CHECK_NO_TRAP "fences do not trap"

  /* run slot32 until hot, patch it with sw + fence.i, run it again */
  li s1, 200
1:
  call slot32
  addi s1, s1, -1
  bnez s1, 1b
  CHECK "slot32 before patching", a0, 1
  la t0, slot32
  li t1, ADDI_A0_ZERO_2
  sw t1, 0(t0)
  fence.i
  call slot32
  CHECK "slot32 after sw + fence.i", a0, 2
  li s1, 200
1:
  call slot32
  addi s1, s1, -1
  bnez s1, 1b
  li t1, ADDI_A0_ZERO_42
  sw t1, 0(t0)
  fence.i
  call slot32
  CHECK "slot32 patched a second time", a0, 42
  /* patch back through an AMO */
  li t1, ADDI_A0_ZERO_1
  amoswap.w t2, t1, (t0)
  fence.i
  CHECK "amoswap.w on code returns the old instruction", t2, ADDI_A0_ZERO_42
  call slot32
  CHECK "slot32 after amoswap.w + fence.i", a0, 1

  /* a 2-byte instruction patched with sh */
  call slot16
  CHECK "slot16 before patching", a0, 5
  la t0, slot16
  li t1, C_LI_A0_7
  sh t1, 0(t0)
  fence.i
  call slot16
  CHECK "slot16 after sh + fence.i", a0, 7
  li s1, 100
1:
  call slot16
  addi s1, s1, -1
  bnez s1, 1b
  li t1, C_LI_A0_9
  sh t1, 0(t0)
  fence.i
  call slot16
  CHECK "slot16 patched a second time", a0, 9

  /* patch an instruction ahead in the same straight-line block, run it in a loop so it is hot first */
  li s1, 50
  li s2, 0
.Lblock_loop:
  la t0, .Lpatch_me
  li t1, ADDI_A0_ZERO_42
  li a0, 0
  beqz s1, .Lblock_patch
  j .Lpatch_me
.Lblock_patch:
  sw t1, 0(t0)
  fence.i
.Lpatch_me:
  addi a0, zero, 1
  add s2, s2, a0
  beqz s1, .Lblock_done
  addi s1, s1, -1
  j .Lblock_loop
.Lblock_done:
  CHECK "patched instruction ahead in the block", a0, 42
  CHECK "block ran 50 times unpatched, then patched", s2, 50 + 42

  /* a patched instruction that reads its own register: addi a0, a0, 100 */
  la t0, slot32
  li t1, ADDI_A0_A0_100
  sw t1, 0(t0)
  fence.i
  li a0, 11
  call slot32
  CHECK "slot32 as addi a0, a0, 100", a0, 111
TEST_END
