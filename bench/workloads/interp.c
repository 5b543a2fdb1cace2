/* A small stack-machine bytecode interpreter (switch dispatch, indirect jumps, calls through a frame stack) running
   recursive Fibonacci and a Collatz-length loop written in its bytecode: the branchy, load-heavy shape of language
   runtimes and of Dhrystone-like mixes. Checksum mixes both programs' results for every repetition. */
#include "common/bench.h"

enum {
  OP_HALT,
  OP_PUSH,  /* imm: push imm */
  OP_LOADL, /* k: push frame[k] */
  OP_STOREL, /* k: frame[k] = pop */
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_AND,
  OP_SHR1,
  OP_LT,  /* push (a < b) */
  OP_NE,  /* push (a != b) */
  OP_JZ,  /* addr: if pop == 0 jump */
  OP_JMP, /* addr */
  OP_CALL, /* addr nargs: arguments become frame[0..nargs) of the callee */
  OP_RET, /* return pop, dropping the frame */
  OP_POP,
};

static i64 code[256];
static int pc_emit;
static void emit(i64 v) { code[pc_emit++] = v; }

static i64 stack[4096];
static struct frame {
  i64 ret_pc, fp;
} frames[1024];

static i64 run(int entry, int nlocals) {
  i64 *sp = stack; /* points at the next free slot */
  i64 fp = 0;
  struct frame *fr = frames;
  i64 pc = entry;
  for (int i = 0; i < nlocals; i++) *sp++ = 0;
  for (;;) {
    i64 op = code[pc++];
    switch (op) {
    case OP_HALT:
      return sp[-1];
    case OP_PUSH:
      *sp++ = code[pc++];
      break;
    case OP_LOADL:
      *sp++ = stack[fp + code[pc++]];
      break;
    case OP_STOREL:
      stack[fp + code[pc++]] = *--sp;
      break;
    case OP_ADD:
      sp--;
      sp[-1] += sp[0];
      break;
    case OP_SUB:
      sp--;
      sp[-1] -= sp[0];
      break;
    case OP_MUL:
      sp--;
      sp[-1] *= sp[0];
      break;
    case OP_AND:
      sp--;
      sp[-1] &= sp[0];
      break;
    case OP_SHR1:
      sp[-1] >>= 1;
      break;
    case OP_LT:
      sp--;
      sp[-1] = sp[-1] < sp[0];
      break;
    case OP_NE:
      sp--;
      sp[-1] = sp[-1] != sp[0];
      break;
    case OP_JZ: {
      i64 target = code[pc++];
      if (*--sp == 0) pc = target;
      break;
    }
    case OP_JMP:
      pc = code[pc];
      break;
    case OP_CALL: {
      i64 target = code[pc++], nargs = code[pc++];
      fr->ret_pc = pc;
      fr->fp = fp;
      fr++;
      fp = (sp - stack) - nargs;
      pc = target;
      break;
    }
    case OP_RET: {
      i64 result = sp[-1];
      sp = stack + fp;
      *sp++ = result;
      fr--;
      pc = fr->ret_pc;
      fp = fr->fp;
      break;
    }
    case OP_POP:
      sp--;
      break;
    default:
      bench_fail("bad opcode");
    }
  }
}

static int fib_fn, fib_main, collatz_main;

/* Assemble the programs; jump targets are patched once known. */
static void assemble(u64 fib_n, u64 collatz_n) {
  /* fib(n) = n < 2 ? n : fib(n - 1) + fib(n - 2) */
  fib_fn = pc_emit;
  emit(OP_LOADL), emit(0), emit(OP_PUSH), emit(2), emit(OP_LT), emit(OP_JZ);
  int patch = pc_emit;
  emit(0);
  emit(OP_LOADL), emit(0), emit(OP_RET);
  code[patch] = pc_emit;
  emit(OP_LOADL), emit(0), emit(OP_PUSH), emit(1), emit(OP_SUB), emit(OP_CALL), emit(fib_fn), emit(1);
  emit(OP_LOADL), emit(0), emit(OP_PUSH), emit(2), emit(OP_SUB), emit(OP_CALL), emit(fib_fn), emit(1);
  emit(OP_ADD), emit(OP_RET);
  fib_main = pc_emit;
  emit(OP_PUSH), emit((i64)fib_n), emit(OP_CALL), emit(fib_fn), emit(1), emit(OP_HALT);

  /* locals: 0 = i, 1 = n, 2 = total. for (i = 1; i < N; i++) for (n = i; n != 1; total++) n = n&1 ? 3n+1 : n/2 */
  collatz_main = pc_emit;
  emit(OP_PUSH), emit(1), emit(OP_STOREL), emit(0);
  int outer = pc_emit;
  emit(OP_LOADL), emit(0), emit(OP_PUSH), emit((i64)collatz_n), emit(OP_LT), emit(OP_JZ);
  int patch_end = pc_emit;
  emit(0);
  emit(OP_LOADL), emit(0), emit(OP_STOREL), emit(1);
  int inner = pc_emit;
  emit(OP_LOADL), emit(1), emit(OP_PUSH), emit(1), emit(OP_NE), emit(OP_JZ);
  int patch_next = pc_emit;
  emit(0);
  emit(OP_LOADL), emit(2), emit(OP_PUSH), emit(1), emit(OP_ADD), emit(OP_STOREL), emit(2);
  emit(OP_LOADL), emit(1), emit(OP_PUSH), emit(1), emit(OP_AND), emit(OP_JZ);
  int patch_even = pc_emit;
  emit(0);
  emit(OP_LOADL), emit(1), emit(OP_PUSH), emit(3), emit(OP_MUL), emit(OP_PUSH), emit(1), emit(OP_ADD);
  emit(OP_STOREL), emit(1), emit(OP_JMP), emit(inner);
  code[patch_even] = pc_emit;
  emit(OP_LOADL), emit(1), emit(OP_SHR1), emit(OP_STOREL), emit(1), emit(OP_JMP), emit(inner);
  code[patch_next] = pc_emit;
  emit(OP_LOADL), emit(0), emit(OP_PUSH), emit(1), emit(OP_ADD), emit(OP_STOREL), emit(0), emit(OP_JMP), emit(outer);
  code[patch_end] = pc_emit;
  emit(OP_LOADL), emit(2), emit(OP_HALT);
}

u64 workload(void) {
  assemble(24, 1000);
  if (run(fib_main, 0) != 46368) bench_fail("fib(24) != 46368");
  u64 h = 0;
  u64 reps = SCALED(16);
  for (u64 r = 0; r < reps; r++) {
    code[fib_main + 1] = 18 + (i64)(r & 3);
    h = mix(h, (u64)run(fib_main, 0));
    h = mix(h, (u64)run(collatz_main, 3));
  }
  return h;
}
