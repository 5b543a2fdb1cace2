#!/usr/bin/env bash
# Build the example bare-metal program with Debian's riscv64-unknown-elf-gcc (apt-get install gcc-riscv64-unknown-elf).
set -euo pipefail
cd "$(dirname "$0")"
riscv64-unknown-elf-gcc -nostdlib -nostartfiles -march=rv64imac_zicsr -mabi=lp64 -Wl,--no-warn-rwx-segments \
  -T hello.ld -o hello.elf hello.S
echo "built examples/hello.elf"
