/*
 * Support for the random differential programs (tests/isa/random-gen.ts): each program loads its scratch memory,
 * mscratch and registers from a table, runs straight-line code that touches memory only through sp (= rnd_scratch)
 * and s0 (= rnd_scratch + 256), saves its registers at rnd_scratch + 512 and calls rnd_dump_hash or rnd_dump_full.
 */
#include "test.h"

#define RND_SCRATCH_SIZE 512
#define RND_SAVE 512

  .bss
  .align 6
  .space 256                /* room below sp for the trap handler's frame, should a random instruction trap */
  .global rnd_scratch
rnd_scratch:
  .space RND_SCRATCH_SIZE + 256
  .align 3
rnd_ra: .space 8
rnd_sc_dummy: .space 8

  .text

/* rnd_setup(t6 = table): scratch <- table[0..64), mscratch <- table[64]; drops any reservation. Clobbers t0-t3. */
  .global rnd_setup
rnd_setup:
  la t0, rnd_scratch
  mv t1, t6
  addi t2, t6, RND_SCRATCH_SIZE
1:
  ld t3, 0(t1)
  sd t3, 0(t0)
  addi t0, t0, 8
  addi t1, t1, 8
  bltu t1, t2, 1b
  ld t3, RND_SCRATCH_SIZE(t6)
  csrw mscratch, t3
  la t0, rnd_sc_dummy
  sc.d x0, x0, (t0)         /* an SC always invalidates the reservation */
  ret

/* RND_BEGIN_LINE (a0 = program index): keeps ra in rnd_ra, switches to the runtime stack, prints "p<index>". */
.macro RND_BEGIN_LINE
  la t0, rnd_ra
  sd ra, 0(t0)
  la sp, _stack_top
  mv s1, a0
  li a0, 'p'
  call htif_putchar
  mv a0, s1
  call putdec
.endm

/* rnd_hash(a0 = start, a1 = end) -> a0: h = rotl(h, 7) ^ dword over [start, end), RV64I only. */
rnd_hash:
  li t2, 0
1:
  slli t0, t2, 7
  srli t1, t2, 57
  or t2, t0, t1
  ld t0, 0(a0)
  xor t2, t2, t0
  addi a0, a0, 8
  bltu a0, a1, 1b
  mv a0, t2
  ret

/* rnd_end_line: " <hash of the scratch memory>\n", then back to the program through rnd_ra. */
rnd_end_line:
  li a0, ' '
  call htif_putchar
  la a0, rnd_scratch
  addi a1, a0, RND_SCRATCH_SIZE
  call rnd_hash
  call puthex
  li a0, '\n'
  call htif_putchar
  la t0, rnd_ra
  ld ra, 0(t0)
  ret

/*
 * rnd_dump_full(a0 = program index): "p<index>", then space-separated in hex mscratch and x1..x31 from the save
 * area, and the scratch memory hash.
 */
  .global rnd_dump_full
rnd_dump_full:
  RND_BEGIN_LINE
  la s2, rnd_scratch + RND_SAVE
  addi s3, s2, 256
1:
  li a0, ' '
  call htif_putchar
  ld a0, 0(s2)
  call puthex
  addi s2, s2, 8
  bltu s2, s3, 1b
  j rnd_end_line

/* rnd_dump_hash(a0 = program index): "p<index> <hash of mscratch and x1..x31> <scratch memory hash>". */
  .global rnd_dump_hash
rnd_dump_hash:
  RND_BEGIN_LINE
  li a0, ' '
  call htif_putchar
  la a0, rnd_scratch + RND_SAVE
  addi a1, a0, 256
  call rnd_hash
  call puthex
  j rnd_end_line

/* rnd_finish: prints "traps N" and exits with 0 if no random instruction trapped, 2 otherwise. */
  .global rnd_finish
rnd_finish:
  la sp, _stack_top
  la a0, str_traps
  call puts
  la t0, trap_rec
  ld a0, TRAP_COUNT(t0)
  call putdec
  li a0, '\n'
  call htif_putchar
  la t0, trap_rec
  ld a0, TRAP_COUNT(t0)
  beqz a0, 1f
  li a0, 2
1:
  j htif_exit

  .data
str_traps: .asciz "traps "
