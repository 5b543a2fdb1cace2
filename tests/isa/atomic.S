/*
 * RV64A: every AMO in .w and .d form (old value returned, .w sign-extended and leaving the upper word alone,
 * signed vs unsigned min/max), aq/rl variants, rd = x0 and rd = rs2; LR/SC success and failure; misaligned LR/SC/AMO
 * (unprivileged spec, chapter 8).
 */
#include "test.h"

  .data
  .align 6
amo_area:
  .space 64

/* TEST_AMO insn, mem, opnd, want_rd, want_mem: t0 = amo_area holding mem; insn t2, t1 = opnd, (t0). */
.macro TEST_AMO insn:req, mem:req, opnd:req, want_rd:req, want_mem:req
  la t0, amo_area
  li t1, \mem
  sd t1, 0(t0)
  li t1, \opnd
  \insn t2, t1, (t0)
  CHECK "\insn \mem \opnd old", t2, \want_rd
  ld t2, 0(t0)
  CHECK "\insn \mem \opnd mem", t2, \want_mem
  CHECK "\insn \mem \opnd rs2 kept", t1, \opnd
.endm

TEST_BEGIN
  /* amoswap.d */
  TEST_AMO amoswap.d, 0x5, 0x3, 0x5, 0x3
  TEST_AMO amoswap.d, 0xffffffffffffffff, 0x1, 0xffffffffffffffff, 0x1
  TEST_AMO amoswap.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
  TEST_AMO amoswap.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
  TEST_AMO amoswap.d, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  TEST_AMO amoswap.d, 0x80000000, 0xffffffff, 0x80000000, 0xffffffff
  TEST_AMO amoswap.d, 0x123456789abcdef, 0xfedcba9876543210, 0x123456789abcdef, 0xfedcba9876543210
  TEST_AMO amoswap.d.aq, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  TEST_AMO amoswap.d.rl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  TEST_AMO amoswap.d.aqrl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  la t0, amo_area
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoswap.d x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoswap.d rd=x0 mem", t2, 0x7
  CHECK "amoswap.d rd=x0 keeps x0", x0, 0
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoswap.d t1, t1, (t0)
  CHECK "amoswap.d rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoswap.d rd=rs2 mem", t2, 0x7
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoswap.d t0, t1, (t0)
  CHECK "amoswap.d rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoswap.d rd=rs1 mem", t2, 0x7
  /* amoswap.w */
  TEST_AMO amoswap.w, 0xcafef00d00000005, 0x5a5a5a5a00000003, 0x5, 0xcafef00d00000003
  TEST_AMO amoswap.w, 0xcafef00dffffffff, 0x5a5a5a5a00000001, 0xffffffffffffffff, 0xcafef00d00000001
  TEST_AMO amoswap.w, 0xcafef00d80000000, 0x5a5a5a5a7fffffff, 0xffffffff80000000, 0xcafef00d7fffffff
  TEST_AMO amoswap.w, 0xcafef00d7fffffff, 0x5a5a5a5a80000000, 0x7fffffff, 0xcafef00d80000000
  TEST_AMO amoswap.w, 0xcafef00dfffffffb, 0x5a5a5a5a00000007, 0xfffffffffffffffb, 0xcafef00d00000007
  TEST_AMO amoswap.w, 0xcafef00d12345678, 0x5a5a5a5aedcba987, 0x12345678, 0xcafef00dedcba987
  TEST_AMO amoswap.w.aq, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000007
  TEST_AMO amoswap.w.rl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000007
  TEST_AMO amoswap.w.aqrl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000007
  la t0, amo_area
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoswap.w x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoswap.w rd=x0 mem", t2, 0xcafef00d00000007
  CHECK "amoswap.w rd=x0 keeps x0", x0, 0
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoswap.w t1, t1, (t0)
  CHECK "amoswap.w rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoswap.w rd=rs2 mem", t2, 0xcafef00d00000007
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoswap.w t0, t1, (t0)
  CHECK "amoswap.w rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoswap.w rd=rs1 mem", t2, 0xcafef00d00000007
  /* amoadd.d */
  TEST_AMO amoadd.d, 0x5, 0x3, 0x5, 0x8
  TEST_AMO amoadd.d, 0xffffffffffffffff, 0x1, 0xffffffffffffffff, 0x0
  TEST_AMO amoadd.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff
  TEST_AMO amoadd.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0xffffffffffffffff
  TEST_AMO amoadd.d, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x2
  TEST_AMO amoadd.d, 0x80000000, 0xffffffff, 0x80000000, 0x17fffffff
  TEST_AMO amoadd.d, 0x123456789abcdef, 0xfedcba9876543210, 0x123456789abcdef, 0xffffffffffffffff
  TEST_AMO amoadd.d.aq, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x2
  TEST_AMO amoadd.d.rl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x2
  TEST_AMO amoadd.d.aqrl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x2
  la t0, amo_area
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoadd.d x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoadd.d rd=x0 mem", t2, 0x2
  CHECK "amoadd.d rd=x0 keeps x0", x0, 0
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoadd.d t1, t1, (t0)
  CHECK "amoadd.d rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoadd.d rd=rs2 mem", t2, 0x2
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoadd.d t0, t1, (t0)
  CHECK "amoadd.d rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoadd.d rd=rs1 mem", t2, 0x2
  /* amoadd.w */
  TEST_AMO amoadd.w, 0xcafef00d00000005, 0x5a5a5a5a00000003, 0x5, 0xcafef00d00000008
  TEST_AMO amoadd.w, 0xcafef00dffffffff, 0x5a5a5a5a00000001, 0xffffffffffffffff, 0xcafef00d00000000
  TEST_AMO amoadd.w, 0xcafef00d80000000, 0x5a5a5a5a7fffffff, 0xffffffff80000000, 0xcafef00dffffffff
  TEST_AMO amoadd.w, 0xcafef00d7fffffff, 0x5a5a5a5a80000000, 0x7fffffff, 0xcafef00dffffffff
  TEST_AMO amoadd.w, 0xcafef00dfffffffb, 0x5a5a5a5a00000007, 0xfffffffffffffffb, 0xcafef00d00000002
  TEST_AMO amoadd.w, 0xcafef00d12345678, 0x5a5a5a5aedcba987, 0x12345678, 0xcafef00dffffffff
  TEST_AMO amoadd.w.aq, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000002
  TEST_AMO amoadd.w.rl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000002
  TEST_AMO amoadd.w.aqrl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000002
  la t0, amo_area
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoadd.w x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoadd.w rd=x0 mem", t2, 0xcafef00d00000002
  CHECK "amoadd.w rd=x0 keeps x0", x0, 0
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoadd.w t1, t1, (t0)
  CHECK "amoadd.w rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoadd.w rd=rs2 mem", t2, 0xcafef00d00000002
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoadd.w t0, t1, (t0)
  CHECK "amoadd.w rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoadd.w rd=rs1 mem", t2, 0xcafef00d00000002
  /* amoxor.d */
  TEST_AMO amoxor.d, 0x5, 0x3, 0x5, 0x6
  TEST_AMO amoxor.d, 0xffffffffffffffff, 0x1, 0xffffffffffffffff, 0xfffffffffffffffe
  TEST_AMO amoxor.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff
  TEST_AMO amoxor.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0xffffffffffffffff
  TEST_AMO amoxor.d, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffc
  TEST_AMO amoxor.d, 0x80000000, 0xffffffff, 0x80000000, 0x7fffffff
  TEST_AMO amoxor.d, 0x123456789abcdef, 0xfedcba9876543210, 0x123456789abcdef, 0xffffffffffffffff
  TEST_AMO amoxor.d.aq, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffc
  TEST_AMO amoxor.d.rl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffc
  TEST_AMO amoxor.d.aqrl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffc
  la t0, amo_area
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoxor.d x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoxor.d rd=x0 mem", t2, 0xfffffffffffffffc
  CHECK "amoxor.d rd=x0 keeps x0", x0, 0
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoxor.d t1, t1, (t0)
  CHECK "amoxor.d rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoxor.d rd=rs2 mem", t2, 0xfffffffffffffffc
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoxor.d t0, t1, (t0)
  CHECK "amoxor.d rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoxor.d rd=rs1 mem", t2, 0xfffffffffffffffc
  /* amoxor.w */
  TEST_AMO amoxor.w, 0xcafef00d00000005, 0x5a5a5a5a00000003, 0x5, 0xcafef00d00000006
  TEST_AMO amoxor.w, 0xcafef00dffffffff, 0x5a5a5a5a00000001, 0xffffffffffffffff, 0xcafef00dfffffffe
  TEST_AMO amoxor.w, 0xcafef00d80000000, 0x5a5a5a5a7fffffff, 0xffffffff80000000, 0xcafef00dffffffff
  TEST_AMO amoxor.w, 0xcafef00d7fffffff, 0x5a5a5a5a80000000, 0x7fffffff, 0xcafef00dffffffff
  TEST_AMO amoxor.w, 0xcafef00dfffffffb, 0x5a5a5a5a00000007, 0xfffffffffffffffb, 0xcafef00dfffffffc
  TEST_AMO amoxor.w, 0xcafef00d12345678, 0x5a5a5a5aedcba987, 0x12345678, 0xcafef00dffffffff
  TEST_AMO amoxor.w.aq, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dfffffffc
  TEST_AMO amoxor.w.rl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dfffffffc
  TEST_AMO amoxor.w.aqrl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dfffffffc
  la t0, amo_area
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoxor.w x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoxor.w rd=x0 mem", t2, 0xcafef00dfffffffc
  CHECK "amoxor.w rd=x0 keeps x0", x0, 0
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoxor.w t1, t1, (t0)
  CHECK "amoxor.w rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoxor.w rd=rs2 mem", t2, 0xcafef00dfffffffc
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoxor.w t0, t1, (t0)
  CHECK "amoxor.w rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoxor.w rd=rs1 mem", t2, 0xcafef00dfffffffc
  /* amoand.d */
  TEST_AMO amoand.d, 0x5, 0x3, 0x5, 0x1
  TEST_AMO amoand.d, 0xffffffffffffffff, 0x1, 0xffffffffffffffff, 0x1
  TEST_AMO amoand.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x0
  TEST_AMO amoand.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0x0
  TEST_AMO amoand.d, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x3
  TEST_AMO amoand.d, 0x80000000, 0xffffffff, 0x80000000, 0x80000000
  TEST_AMO amoand.d, 0x123456789abcdef, 0xfedcba9876543210, 0x123456789abcdef, 0x0
  TEST_AMO amoand.d.aq, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x3
  TEST_AMO amoand.d.rl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x3
  TEST_AMO amoand.d.aqrl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x3
  la t0, amo_area
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoand.d x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoand.d rd=x0 mem", t2, 0x3
  CHECK "amoand.d rd=x0 keeps x0", x0, 0
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoand.d t1, t1, (t0)
  CHECK "amoand.d rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoand.d rd=rs2 mem", t2, 0x3
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoand.d t0, t1, (t0)
  CHECK "amoand.d rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoand.d rd=rs1 mem", t2, 0x3
  /* amoand.w */
  TEST_AMO amoand.w, 0xcafef00d00000005, 0x5a5a5a5a00000003, 0x5, 0xcafef00d00000001
  TEST_AMO amoand.w, 0xcafef00dffffffff, 0x5a5a5a5a00000001, 0xffffffffffffffff, 0xcafef00d00000001
  TEST_AMO amoand.w, 0xcafef00d80000000, 0x5a5a5a5a7fffffff, 0xffffffff80000000, 0xcafef00d00000000
  TEST_AMO amoand.w, 0xcafef00d7fffffff, 0x5a5a5a5a80000000, 0x7fffffff, 0xcafef00d00000000
  TEST_AMO amoand.w, 0xcafef00dfffffffb, 0x5a5a5a5a00000007, 0xfffffffffffffffb, 0xcafef00d00000003
  TEST_AMO amoand.w, 0xcafef00d12345678, 0x5a5a5a5aedcba987, 0x12345678, 0xcafef00d00000000
  TEST_AMO amoand.w.aq, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000003
  TEST_AMO amoand.w.rl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000003
  TEST_AMO amoand.w.aqrl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000003
  la t0, amo_area
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoand.w x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoand.w rd=x0 mem", t2, 0xcafef00d00000003
  CHECK "amoand.w rd=x0 keeps x0", x0, 0
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoand.w t1, t1, (t0)
  CHECK "amoand.w rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoand.w rd=rs2 mem", t2, 0xcafef00d00000003
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoand.w t0, t1, (t0)
  CHECK "amoand.w rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoand.w rd=rs1 mem", t2, 0xcafef00d00000003
  /* amoor.d */
  TEST_AMO amoor.d, 0x5, 0x3, 0x5, 0x7
  TEST_AMO amoor.d, 0xffffffffffffffff, 0x1, 0xffffffffffffffff, 0xffffffffffffffff
  TEST_AMO amoor.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff
  TEST_AMO amoor.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0xffffffffffffffff
  TEST_AMO amoor.d, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xffffffffffffffff
  TEST_AMO amoor.d, 0x80000000, 0xffffffff, 0x80000000, 0xffffffff
  TEST_AMO amoor.d, 0x123456789abcdef, 0xfedcba9876543210, 0x123456789abcdef, 0xffffffffffffffff
  TEST_AMO amoor.d.aq, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xffffffffffffffff
  TEST_AMO amoor.d.rl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xffffffffffffffff
  TEST_AMO amoor.d.aqrl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xffffffffffffffff
  la t0, amo_area
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoor.d x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoor.d rd=x0 mem", t2, 0xffffffffffffffff
  CHECK "amoor.d rd=x0 keeps x0", x0, 0
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoor.d t1, t1, (t0)
  CHECK "amoor.d rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoor.d rd=rs2 mem", t2, 0xffffffffffffffff
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoor.d t0, t1, (t0)
  CHECK "amoor.d rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoor.d rd=rs1 mem", t2, 0xffffffffffffffff
  /* amoor.w */
  TEST_AMO amoor.w, 0xcafef00d00000005, 0x5a5a5a5a00000003, 0x5, 0xcafef00d00000007
  TEST_AMO amoor.w, 0xcafef00dffffffff, 0x5a5a5a5a00000001, 0xffffffffffffffff, 0xcafef00dffffffff
  TEST_AMO amoor.w, 0xcafef00d80000000, 0x5a5a5a5a7fffffff, 0xffffffff80000000, 0xcafef00dffffffff
  TEST_AMO amoor.w, 0xcafef00d7fffffff, 0x5a5a5a5a80000000, 0x7fffffff, 0xcafef00dffffffff
  TEST_AMO amoor.w, 0xcafef00dfffffffb, 0x5a5a5a5a00000007, 0xfffffffffffffffb, 0xcafef00dffffffff
  TEST_AMO amoor.w, 0xcafef00d12345678, 0x5a5a5a5aedcba987, 0x12345678, 0xcafef00dffffffff
  TEST_AMO amoor.w.aq, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dffffffff
  TEST_AMO amoor.w.rl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dffffffff
  TEST_AMO amoor.w.aqrl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dffffffff
  la t0, amo_area
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoor.w x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amoor.w rd=x0 mem", t2, 0xcafef00dffffffff
  CHECK "amoor.w rd=x0 keeps x0", x0, 0
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoor.w t1, t1, (t0)
  CHECK "amoor.w rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amoor.w rd=rs2 mem", t2, 0xcafef00dffffffff
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amoor.w t0, t1, (t0)
  CHECK "amoor.w rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amoor.w rd=rs1 mem", t2, 0xcafef00dffffffff
  /* amomin.d */
  TEST_AMO amomin.d, 0x5, 0x3, 0x5, 0x3
  TEST_AMO amomin.d, 0xffffffffffffffff, 0x1, 0xffffffffffffffff, 0xffffffffffffffff
  TEST_AMO amomin.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000000
  TEST_AMO amomin.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
  TEST_AMO amomin.d, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffb
  TEST_AMO amomin.d, 0x80000000, 0xffffffff, 0x80000000, 0x80000000
  TEST_AMO amomin.d, 0x123456789abcdef, 0xfedcba9876543210, 0x123456789abcdef, 0xfedcba9876543210
  TEST_AMO amomin.d.aq, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffb
  TEST_AMO amomin.d.rl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffb
  TEST_AMO amomin.d.aqrl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffb
  la t0, amo_area
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomin.d x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amomin.d rd=x0 mem", t2, 0xfffffffffffffffb
  CHECK "amomin.d rd=x0 keeps x0", x0, 0
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomin.d t1, t1, (t0)
  CHECK "amomin.d rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amomin.d rd=rs2 mem", t2, 0xfffffffffffffffb
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomin.d t0, t1, (t0)
  CHECK "amomin.d rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amomin.d rd=rs1 mem", t2, 0xfffffffffffffffb
  /* amomin.w */
  TEST_AMO amomin.w, 0xcafef00d00000005, 0x5a5a5a5a00000003, 0x5, 0xcafef00d00000003
  TEST_AMO amomin.w, 0xcafef00dffffffff, 0x5a5a5a5a00000001, 0xffffffffffffffff, 0xcafef00dffffffff
  TEST_AMO amomin.w, 0xcafef00d80000000, 0x5a5a5a5a7fffffff, 0xffffffff80000000, 0xcafef00d80000000
  TEST_AMO amomin.w, 0xcafef00d7fffffff, 0x5a5a5a5a80000000, 0x7fffffff, 0xcafef00d80000000
  TEST_AMO amomin.w, 0xcafef00dfffffffb, 0x5a5a5a5a00000007, 0xfffffffffffffffb, 0xcafef00dfffffffb
  TEST_AMO amomin.w, 0xcafef00d12345678, 0x5a5a5a5aedcba987, 0x12345678, 0xcafef00dedcba987
  TEST_AMO amomin.w.aq, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dfffffffb
  TEST_AMO amomin.w.rl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dfffffffb
  TEST_AMO amomin.w.aqrl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dfffffffb
  la t0, amo_area
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomin.w x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amomin.w rd=x0 mem", t2, 0xcafef00dfffffffb
  CHECK "amomin.w rd=x0 keeps x0", x0, 0
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomin.w t1, t1, (t0)
  CHECK "amomin.w rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amomin.w rd=rs2 mem", t2, 0xcafef00dfffffffb
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomin.w t0, t1, (t0)
  CHECK "amomin.w rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amomin.w rd=rs1 mem", t2, 0xcafef00dfffffffb
  /* amomax.d */
  TEST_AMO amomax.d, 0x5, 0x3, 0x5, 0x5
  TEST_AMO amomax.d, 0xffffffffffffffff, 0x1, 0xffffffffffffffff, 0x1
  TEST_AMO amomax.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
  TEST_AMO amomax.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0x7fffffffffffffff
  TEST_AMO amomax.d, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  TEST_AMO amomax.d, 0x80000000, 0xffffffff, 0x80000000, 0xffffffff
  TEST_AMO amomax.d, 0x123456789abcdef, 0xfedcba9876543210, 0x123456789abcdef, 0x123456789abcdef
  TEST_AMO amomax.d.aq, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  TEST_AMO amomax.d.rl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  TEST_AMO amomax.d.aqrl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  la t0, amo_area
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomax.d x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amomax.d rd=x0 mem", t2, 0x7
  CHECK "amomax.d rd=x0 keeps x0", x0, 0
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomax.d t1, t1, (t0)
  CHECK "amomax.d rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amomax.d rd=rs2 mem", t2, 0x7
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomax.d t0, t1, (t0)
  CHECK "amomax.d rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amomax.d rd=rs1 mem", t2, 0x7
  /* amomax.w */
  TEST_AMO amomax.w, 0xcafef00d00000005, 0x5a5a5a5a00000003, 0x5, 0xcafef00d00000005
  TEST_AMO amomax.w, 0xcafef00dffffffff, 0x5a5a5a5a00000001, 0xffffffffffffffff, 0xcafef00d00000001
  TEST_AMO amomax.w, 0xcafef00d80000000, 0x5a5a5a5a7fffffff, 0xffffffff80000000, 0xcafef00d7fffffff
  TEST_AMO amomax.w, 0xcafef00d7fffffff, 0x5a5a5a5a80000000, 0x7fffffff, 0xcafef00d7fffffff
  TEST_AMO amomax.w, 0xcafef00dfffffffb, 0x5a5a5a5a00000007, 0xfffffffffffffffb, 0xcafef00d00000007
  TEST_AMO amomax.w, 0xcafef00d12345678, 0x5a5a5a5aedcba987, 0x12345678, 0xcafef00d12345678
  TEST_AMO amomax.w.aq, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000007
  TEST_AMO amomax.w.rl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000007
  TEST_AMO amomax.w.aqrl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000007
  la t0, amo_area
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomax.w x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amomax.w rd=x0 mem", t2, 0xcafef00d00000007
  CHECK "amomax.w rd=x0 keeps x0", x0, 0
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomax.w t1, t1, (t0)
  CHECK "amomax.w rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amomax.w rd=rs2 mem", t2, 0xcafef00d00000007
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomax.w t0, t1, (t0)
  CHECK "amomax.w rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amomax.w rd=rs1 mem", t2, 0xcafef00d00000007
  /* amominu.d */
  TEST_AMO amominu.d, 0x5, 0x3, 0x5, 0x3
  TEST_AMO amominu.d, 0xffffffffffffffff, 0x1, 0xffffffffffffffff, 0x1
  TEST_AMO amominu.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff
  TEST_AMO amominu.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0x7fffffffffffffff
  TEST_AMO amominu.d, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  TEST_AMO amominu.d, 0x80000000, 0xffffffff, 0x80000000, 0x80000000
  TEST_AMO amominu.d, 0x123456789abcdef, 0xfedcba9876543210, 0x123456789abcdef, 0x123456789abcdef
  TEST_AMO amominu.d.aq, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  TEST_AMO amominu.d.rl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  TEST_AMO amominu.d.aqrl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0x7
  la t0, amo_area
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amominu.d x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amominu.d rd=x0 mem", t2, 0x7
  CHECK "amominu.d rd=x0 keeps x0", x0, 0
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amominu.d t1, t1, (t0)
  CHECK "amominu.d rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amominu.d rd=rs2 mem", t2, 0x7
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amominu.d t0, t1, (t0)
  CHECK "amominu.d rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amominu.d rd=rs1 mem", t2, 0x7
  /* amominu.w */
  TEST_AMO amominu.w, 0xcafef00d00000005, 0x5a5a5a5a00000003, 0x5, 0xcafef00d00000003
  TEST_AMO amominu.w, 0xcafef00dffffffff, 0x5a5a5a5a00000001, 0xffffffffffffffff, 0xcafef00d00000001
  TEST_AMO amominu.w, 0xcafef00d80000000, 0x5a5a5a5a7fffffff, 0xffffffff80000000, 0xcafef00d7fffffff
  TEST_AMO amominu.w, 0xcafef00d7fffffff, 0x5a5a5a5a80000000, 0x7fffffff, 0xcafef00d7fffffff
  TEST_AMO amominu.w, 0xcafef00dfffffffb, 0x5a5a5a5a00000007, 0xfffffffffffffffb, 0xcafef00d00000007
  TEST_AMO amominu.w, 0xcafef00d12345678, 0x5a5a5a5aedcba987, 0x12345678, 0xcafef00d12345678
  TEST_AMO amominu.w.aq, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000007
  TEST_AMO amominu.w.rl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000007
  TEST_AMO amominu.w.aqrl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00d00000007
  la t0, amo_area
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amominu.w x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amominu.w rd=x0 mem", t2, 0xcafef00d00000007
  CHECK "amominu.w rd=x0 keeps x0", x0, 0
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amominu.w t1, t1, (t0)
  CHECK "amominu.w rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amominu.w rd=rs2 mem", t2, 0xcafef00d00000007
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amominu.w t0, t1, (t0)
  CHECK "amominu.w rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amominu.w rd=rs1 mem", t2, 0xcafef00d00000007
  /* amomaxu.d */
  TEST_AMO amomaxu.d, 0x5, 0x3, 0x5, 0x5
  TEST_AMO amomaxu.d, 0xffffffffffffffff, 0x1, 0xffffffffffffffff, 0xffffffffffffffff
  TEST_AMO amomaxu.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x8000000000000000
  TEST_AMO amomaxu.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000
  TEST_AMO amomaxu.d, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffb
  TEST_AMO amomaxu.d, 0x80000000, 0xffffffff, 0x80000000, 0xffffffff
  TEST_AMO amomaxu.d, 0x123456789abcdef, 0xfedcba9876543210, 0x123456789abcdef, 0xfedcba9876543210
  TEST_AMO amomaxu.d.aq, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffb
  TEST_AMO amomaxu.d.rl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffb
  TEST_AMO amomaxu.d.aqrl, 0xfffffffffffffffb, 0x7, 0xfffffffffffffffb, 0xfffffffffffffffb
  la t0, amo_area
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomaxu.d x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amomaxu.d rd=x0 mem", t2, 0xfffffffffffffffb
  CHECK "amomaxu.d rd=x0 keeps x0", x0, 0
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomaxu.d t1, t1, (t0)
  CHECK "amomaxu.d rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amomaxu.d rd=rs2 mem", t2, 0xfffffffffffffffb
  li t1, 0xfffffffffffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomaxu.d t0, t1, (t0)
  CHECK "amomaxu.d rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amomaxu.d rd=rs1 mem", t2, 0xfffffffffffffffb
  /* amomaxu.w */
  TEST_AMO amomaxu.w, 0xcafef00d00000005, 0x5a5a5a5a00000003, 0x5, 0xcafef00d00000005
  TEST_AMO amomaxu.w, 0xcafef00dffffffff, 0x5a5a5a5a00000001, 0xffffffffffffffff, 0xcafef00dffffffff
  TEST_AMO amomaxu.w, 0xcafef00d80000000, 0x5a5a5a5a7fffffff, 0xffffffff80000000, 0xcafef00d80000000
  TEST_AMO amomaxu.w, 0xcafef00d7fffffff, 0x5a5a5a5a80000000, 0x7fffffff, 0xcafef00d80000000
  TEST_AMO amomaxu.w, 0xcafef00dfffffffb, 0x5a5a5a5a00000007, 0xfffffffffffffffb, 0xcafef00dfffffffb
  TEST_AMO amomaxu.w, 0xcafef00d12345678, 0x5a5a5a5aedcba987, 0x12345678, 0xcafef00dedcba987
  TEST_AMO amomaxu.w.aq, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dfffffffb
  TEST_AMO amomaxu.w.rl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dfffffffb
  TEST_AMO amomaxu.w.aqrl, 0xcafef00dfffffffb, 0x7, 0xfffffffffffffffb, 0xcafef00dfffffffb
  la t0, amo_area
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomaxu.w x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "amomaxu.w rd=x0 mem", t2, 0xcafef00dfffffffb
  CHECK "amomaxu.w rd=x0 keeps x0", x0, 0
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomaxu.w t1, t1, (t0)
  CHECK "amomaxu.w rd=rs2 old", t1, 0xfffffffffffffffb
  ld t2, 0(t0)
  CHECK "amomaxu.w rd=rs2 mem", t2, 0xcafef00dfffffffb
  li t1, 0xcafef00dfffffffb
  sd t1, 0(t0)
  li t1, 0x7
  amomaxu.w t0, t1, (t0)
  CHECK "amomaxu.w rd=rs1 old", t0, 0xfffffffffffffffb
  la t0, amo_area
  ld t2, 0(t0)
  CHECK "amomaxu.w rd=rs1 mem", t2, 0xcafef00dfffffffb
  /* AMO .w on the upper word of a dword */
  la t0, amo_area
  li t1, 0x7fffffff00000001
  sd t1, 0(t0)
  addi t0, t0, 4
  li t1, 1
  amoadd.w t2, t1, (t0)
  CHECK "amoadd.w upper word old", t2, 0x7fffffff
  ld t2, -4(t0)
  CHECK "amoadd.w upper word mem", t2, 0x8000000000000001

  /* lr.d / sc.d success: rd = 0 and the store happens */
  la t0, amo_area
  li t1, 0x1111111122222222
  sd t1, 0(t0)
  lr.d t2, (t0)
  CHECK "lr.d value", t2, 0x1111111122222222
  li t1, 0x3333333344444444
  sc.d t2, t1, (t0)
  CHECK "sc.d success code", t2, 0
  ld t2, 0(t0)
  CHECK "sc.d success stores", t2, 0x3333333344444444

  /* lr.w sign-extends; sc.w writes the low word only */
  li t1, 0x0000000180000000
  sd t1, 0(t0)
  lr.w t2, (t0)
  CHECK "lr.w sign-extends", t2, 0xffffffff80000000
  li t1, 0xabcdef0012345678
  sc.w t2, t1, (t0)
  CHECK "sc.w success code", t2, 0
  ld t2, 0(t0)
  CHECK "sc.w success stores the low word", t2, 0x0000000112345678
  addi t0, t0, 4
  lr.w t2, (t0)
  CHECK "lr.w upper word", t2, 1
  li t1, -2
  sc.w t2, t1, (t0)
  CHECK "sc.w upper word code", t2, 0
  ld t2, -4(t0)
  CHECK "sc.w upper word stores", t2, 0xfffffffe12345678

  /* sc without a reservation fails (1), stores nothing: the previous sc consumed the reservation */
  la t0, amo_area
  li t1, 0x55
  sd t1, 0(t0)
  lr.d t2, (t0)
  li t1, 0x66
  sc.d t2, t1, (t0)
  CHECK "sc.d first", t2, 0
  li t1, 0x77
  sc.d t2, t1, (t0)
  CHECK "sc.d again without reservation fails", t2, 1
  ld t2, 0(t0)
  CHECK "failed sc.d stores nothing", t2, 0x66
  li t1, 0x88
  sc.w t2, t1, (t0)
  CHECK "sc.w without reservation fails", t2, 1
  ld t2, 0(t0)
  CHECK "failed sc.w stores nothing", t2, 0x66

  /* sc to another address than the reservation (a different 64-byte block) fails */
  la t0, amo_area
  lr.d t2, (t0)
  la t1, amo_other
  li t2, 0x99
  sc.d t2, t2, (t1)
  CHECK "sc.d to another address fails", t2, 1
  ld t2, 0(t1)
  CHECK "sc.d to another address stores nothing", t2, 0
  /* ...and the reservation on amo_area is gone as well (an SC always invalidates it) */
  li t1, 0xaa
  sc.d t2, t1, (t0)
  CHECK "sc.d after failed sc fails", t2, 1

  /* a newer lr moves the reservation: sc to the first address fails */
  la t0, amo_area
  la t1, amo_other
  lr.d t2, (t0)
  lr.d t2, (t1)
  li t2, 0xbb
  sc.d t2, t2, (t0)
  CHECK "sc.d after lr elsewhere fails", t2, 1

  /* a store of a different value to the reserved address between lr and sc: QEMU 7.2's sc fails */
  la t0, amo_area
  li t1, 0x10
  sd t1, 0(t0)
  lr.d t2, (t0)
  li t1, 0x20
  sd t1, 0(t0)
  li t1, 0x30
  sc.d t2, t1, (t0)
  CHECK "sc.d after intervening store fails", t2, 1
  ld t2, 0(t0)
  CHECK "sc.d after intervening store stores nothing", t2, 0x20
  lr.w t2, (t0)
  li t1, 0x21
  sw t1, 0(t0)
  li t1, 0x31
  sc.w t2, t1, (t0)
  CHECK "sc.w after intervening store fails", t2, 1
  ld t2, 0(t0)
  CHECK "sc.w after intervening store stores nothing", t2, 0x21

  /* lr/sc with aq/rl bits, rd = x0 for sc */
  la t0, amo_area
  lr.d.aq t2, (t0)
  li t1, 0x42
  sc.d.rl x0, t1, (t0)
  ld t2, 0(t0)
  CHECK "lr.d.aq / sc.d.rl x0 stores", t2, 0x42
  lr.w.aqrl t2, (t0)
  li t1, 0x43
  sc.w.aqrl t2, t1, (t0)
  CHECK "lr.w.aqrl / sc.w.aqrl code", t2, 0
  CHECK_NO_TRAP "no traps so far"

  /* misaligned lr traps with a load address-misaligned exception, mtval = the address */
  la t0, amo_area + 4
.Llr_d_mis:
  lr.d t2, (t0)
  CHECK_TRAP_ADDR "lr.d misaligned", CAUSE_MISALIGNED_LOAD, .Llr_d_mis, amo_area + 4
  la t0, amo_area + 2
.Llr_w_mis:
  lr.w t2, (t0)
  CHECK_TRAP_ADDR "lr.w misaligned", CAUSE_MISALIGNED_LOAD, .Llr_w_mis, amo_area + 2
  la t0, amo_area + 1
.Llr_w_mis1:
  lr.w t2, (t0)
  CHECK_TRAP_ADDR "lr.w misaligned by 1", CAUSE_MISALIGNED_LOAD, .Llr_w_mis1, amo_area + 1

  /* misaligned sc and AMOs trap with a store/AMO address-misaligned exception (see the harness's QEMU deviations) */
  la t0, amo_area + 4
  li t1, 1
.Lsc_d_mis:
  sc.d t2, t1, (t0)
  CHECK_TRAP_ADDR "sc.d misaligned traps", CAUSE_MISALIGNED_STORE, .Lsc_d_mis, amo_area + 4
  la t0, amo_area + 2
.Lsc_w_mis:
  sc.w t2, t1, (t0)
  CHECK_TRAP_ADDR "sc.w misaligned traps", CAUSE_MISALIGNED_STORE, .Lsc_w_mis, amo_area + 2

  la t0, amo_area + 4
  li t2, 0x5a
.Lamo_mis0:
  amoswap.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amoswap.d misaligned by 4 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis0, amo_area + 4
  CHECK "amoswap.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 2
  li t2, 0x5a
.Lamo_mis1:
  amoswap.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amoswap.w misaligned by 2 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis1, amo_area + 2
  CHECK "amoswap.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 1
  li t2, 0x5a
.Lamo_mis2:
  amoswap.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amoswap.d misaligned by 1 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis2, amo_area + 1
  CHECK "amoswap.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 3
  li t2, 0x5a
.Lamo_mis3:
  amoswap.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amoswap.w misaligned by 3 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis3, amo_area + 3
  CHECK "amoswap.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 4
  li t2, 0x5a
.Lamo_mis4:
  amoadd.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amoadd.d misaligned by 4 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis4, amo_area + 4
  CHECK "amoadd.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 2
  li t2, 0x5a
.Lamo_mis5:
  amoadd.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amoadd.w misaligned by 2 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis5, amo_area + 2
  CHECK "amoadd.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 1
  li t2, 0x5a
.Lamo_mis6:
  amoadd.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amoadd.d misaligned by 1 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis6, amo_area + 1
  CHECK "amoadd.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 3
  li t2, 0x5a
.Lamo_mis7:
  amoadd.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amoadd.w misaligned by 3 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis7, amo_area + 3
  CHECK "amoadd.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 4
  li t2, 0x5a
.Lamo_mis8:
  amoxor.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amoxor.d misaligned by 4 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis8, amo_area + 4
  CHECK "amoxor.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 2
  li t2, 0x5a
.Lamo_mis9:
  amoxor.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amoxor.w misaligned by 2 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis9, amo_area + 2
  CHECK "amoxor.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 4
  li t2, 0x5a
.Lamo_mis10:
  amoand.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amoand.d misaligned by 4 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis10, amo_area + 4
  CHECK "amoand.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 2
  li t2, 0x5a
.Lamo_mis11:
  amoand.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amoand.w misaligned by 2 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis11, amo_area + 2
  CHECK "amoand.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 4
  li t2, 0x5a
.Lamo_mis12:
  amoor.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amoor.d misaligned by 4 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis12, amo_area + 4
  CHECK "amoor.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 2
  li t2, 0x5a
.Lamo_mis13:
  amoor.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amoor.w misaligned by 2 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis13, amo_area + 2
  CHECK "amoor.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 4
  li t2, 0x5a
.Lamo_mis14:
  amomin.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amomin.d misaligned by 4 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis14, amo_area + 4
  CHECK "amomin.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 2
  li t2, 0x5a
.Lamo_mis15:
  amomin.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amomin.w misaligned by 2 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis15, amo_area + 2
  CHECK "amomin.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 4
  li t2, 0x5a
.Lamo_mis16:
  amomax.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amomax.d misaligned by 4 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis16, amo_area + 4
  CHECK "amomax.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 2
  li t2, 0x5a
.Lamo_mis17:
  amomax.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amomax.w misaligned by 2 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis17, amo_area + 2
  CHECK "amomax.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 4
  li t2, 0x5a
.Lamo_mis18:
  amominu.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amominu.d misaligned by 4 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis18, amo_area + 4
  CHECK "amominu.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 2
  li t2, 0x5a
.Lamo_mis19:
  amominu.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amominu.w misaligned by 2 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis19, amo_area + 2
  CHECK "amominu.w misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 4
  li t2, 0x5a
.Lamo_mis20:
  amomaxu.d t2, t1, (t0)
  CHECK_TRAP_ADDR "amomaxu.d misaligned by 4 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis20, amo_area + 4
  CHECK "amomaxu.d misaligned leaves rd", t2, 0x5a
  la t0, amo_area + 2
  li t2, 0x5a
.Lamo_mis21:
  amomaxu.w t2, t1, (t0)
  CHECK_TRAP_ADDR "amomaxu.w misaligned by 2 traps", CAUSE_MISALIGNED_STORE, .Lamo_mis21, amo_area + 2
  CHECK "amomaxu.w misaligned leaves rd", t2, 0x5a
TEST_END

  .data
  .align 6
amo_other:
  .space 64
