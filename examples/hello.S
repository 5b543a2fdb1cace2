# A bare-metal RV64 program for `popek run-elf`: prints a greeting and the sum 1..100000 through HTIF
# (the tohost/fromhost convention of spike and QEMU's -M spike), then exits with code 0.
  .section .text.init
  .globl _start
_start:
  la sp, stack_top
  la a0, msg
  call puts
  li t0, 0                 # sum 1..100000
  li t1, 100000
1:add t0, t0, t1
  addi t1, t1, -1
  bnez t1, 1b
  li t3, 5000050000
  bne t0, t3, fail
  la a0, ok
  call puts
  li a0, 0
  j exit
fail:
  li a0, 1
exit:                      # tohost = (code << 1) | 1
  slli a0, a0, 1
  ori a0, a0, 1
  la t2, tohost
  sd a0, 0(t2)
2:j 2b

puts:                      # a0: NUL-terminated string; tohost = device 1 (console), command 1 (putchar), byte
  li t0, 0x0101
  slli t0, t0, 48
  la t2, tohost
3:lbu t1, 0(a0)
  beqz t1, 4f
  or t1, t1, t0
  sd t1, 0(t2)
  addi a0, a0, 1
  j 3b
4:ret

  .section .rodata
msg: .asciz "Hello from a RISC-V hart inside popek.\n"
ok:  .asciz "sum(1..100000) = 5000050000: ok\n"

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .size tohost, 8
  .align 6
  .globl fromhost
fromhost: .dword 0
  .size fromhost, 8

  .bss
  .align 4
  .space 4096
stack_top:
