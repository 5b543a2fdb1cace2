#!/usr/bin/env bash
# Build popek's default guest image set from Debian packages: a RISC-V Linux kernel Image (linux-source-6.1,
# defconfig + kernel.config, no modules), a static BusyBox (Debian's busybox source package + busybox.config) in an
# initramfs (initramfs.cpio.gz) and on an ext4 root disk (rootfs.ext4), with the files under rootfs/.
#
#   build.sh STEP...   run the steps in order; STEP is one of deps sources kernel-config kernel busybox rootfs, or all
#
# Environment: POPEK_IMAGE_WORK (work directory: build trees, log; default ./popek-image-work), POPEK_IMAGE_SRC
# (unpacked sources, shared by builds of different recipes; default $POPEK_IMAGE_WORK/src),
# POPEK_IMAGE_OUT (where the image set goes; default ./popek-image), JOBS (parallel make jobs; default: CPU count).
# `popek image build` runs the steps one by one with a progress display, a log file and a cache; this script alone
# is enough to build by hand. Compiling runs under `nice -n 19`.
set -euo pipefail

RECIPE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=recipe.env
. "$RECIPE/recipe.env"
export SOURCE_DATE_EPOCH
WORK=${POPEK_IMAGE_WORK:-$PWD/popek-image-work}
OUT=${POPEK_IMAGE_OUT:-$PWD/popek-image}
JOBS=${JOBS:-$(nproc)}
SRC=${POPEK_IMAGE_SRC:-$WORK/src}
ARCH=riscv
export ARCH CROSS_COMPILE
# Exit status of the deps step when packages are missing and this is not root (popek shows the message as it is).
EXIT_NEED_ROOT=3

say() { printf '%s\n' "$*"; }
die() {
  printf 'build.sh: %s\n' "$*" >&2
  exit 1
}

# --- deps: the Debian packages the build needs, and a deb-src entry for BusyBox's source package ---------------

PACKAGES=(
  "$KERNEL_PACKAGE" gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu libc6-dev-riscv64-cross
  make gcc libc6-dev bc flex bison xz-utils dpkg-dev e2fsprogs gzip
  # For the ext4 disk's root-owned files and device nodes when the build does not run as root.
  fakeroot
)
DEB_SRC_FILE=/etc/apt/sources.list.d/popek-deb-src.sources

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then printf '%s ' "$p"; fi
  done
}

# The machine's Debian `deb` entries (deb822 .sources files and one-line .list files) as deb822 `deb-src` stanzas:
# the same mirrors, suites and keys. Only entries for this release's suites (bookworm, bookworm-updates, ...) count.
deb_src_stanzas() {
  local codename
  codename=$(. /etc/os-release && printf '%s' "$VERSION_CODENAME")
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    [ "$f" = "$DEB_SRC_FILE" ] && continue
    case "$f" in
    *.sources)
      awk -v codename="$codename" '
        function flush() {
          if (types ~ /(^| )deb( |$)/ && enabled != "no" && suites != "") {
            n = split(suites, s, " "); keep = ""
            for (i = 1; i <= n; i++) if (s[i] == codename || index(s[i], codename "-") == 1) keep = keep " " s[i]
            if (keep != "") {
              printf "Types: deb-src\nURIs: %s\nSuites:%s\nComponents: %s\n", uris, keep, comps
              if (key != "") printf "Signed-By: %s\n", key
              printf "\n"
            }
          }
          types = uris = suites = comps = key = enabled = ""
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        { line = $0; field = tolower(line); sub(/:.*/, "", field); sub(/^[^:]*:[ \t]*/, "", line) }
        field == "types" { types = line } field == "uris" { uris = line } field == "suites" { suites = line }
        field == "components" { comps = line } field == "signed-by" { key = line } field == "enabled" { enabled = line }
        END { flush() }' "$f"
      ;;
    *)
      awk -v codename="$codename" '
        $1 == "deb" {
          key = ""; i = 2
          if ($2 ~ /^\[/) {
            for (; i <= NF; i++) {
              if ($i ~ /signed-by=/) { key = $i; sub(/.*signed-by=/, "", key); sub(/\]$/, "", key) }
              if ($i ~ /\]$/) { i++; break }
            }
          }
          uri = $i; suite = $(i + 1)
          if (suite != codename && index(suite, codename "-") != 1) next
          comps = ""; for (j = i + 2; j <= NF; j++) comps = comps (comps == "" ? "" : " ") $j
          printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uri, suite, comps
          if (key != "") printf "Signed-By: %s\n", key
          printf "\n"
        }' "$f"
      ;;
    esac
  done
}

have_busybox_source() { apt-cache showsrc "$BUSYBOX_SOURCE" >/dev/null 2>&1 && [ -n "$(apt-cache showsrc "$BUSYBOX_SOURCE" 2>/dev/null)" ]; }

step_deps() {
  local missing need_src=0 stanzas
  missing=$(missing_packages)
  have_busybox_source || need_src=1
  if [ -z "$missing" ] && [ "$need_src" = 0 ]; then
    say "all build dependencies are installed; deb-src for $BUSYBOX_SOURCE is known to apt"
    return 0
  fi
  if [ "$need_src" = 1 ]; then
    stanzas=$(deb_src_stanzas)
    [ -n "$stanzas" ] || die "no Debian 'deb' entry found in /etc/apt/sources.list* to derive a deb-src entry from"
  fi
  if [ "$(id -u)" != 0 ]; then
    {
      say "Missing build dependencies. Run these commands (as root, or with sudo as here), then build again:"
      say ""
      if [ "$need_src" = 1 ]; then
        say "sudo tee $DEB_SRC_FILE >/dev/null <<'END'"
        printf '%s\n' "$stanzas"
        say "END"
      fi
      if [ -n "$missing" ]; then
        say "sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing% }"
      else
        say "sudo apt-get update"
      fi
    } >&2
    exit "$EXIT_NEED_ROOT"
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ "$need_src" = 1 ]; then
    say "adding $DEB_SRC_FILE (deb-src for the mirrors in /etc/apt/sources.list*)"
    printf '# Added by popek (tools/image/build.sh) to fetch Debian source packages (BusyBox).\n\n%s\n' "$stanzas" \
      >"$DEB_SRC_FILE"
  fi
  say "apt-get update"
  apt-get update -q
  if [ -n "$missing" ]; then
    say "apt-get install $missing"
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
  fi
  have_busybox_source || die "apt still knows no source package '$BUSYBOX_SOURCE' after adding $DEB_SRC_FILE"
}

# --- sources: the kernel tarball unpacked, BusyBox's source package fetched and unpacked (patches applied) --------

pkg_version() { dpkg-query -W -f '${Version}' "$1"; }

kernel_src() { printf '%s/%s-%s' "$SRC" "$KERNEL_PACKAGE" "$(pkg_version "$KERNEL_PACKAGE")"; }

busybox_src() {
  local d
  d=$(cat "$SRC/busybox.dir" 2>/dev/null) || return 1
  [ -f "$d/.popek-unpacked" ] && printf '%s' "$d"
}

step_sources() {
  mkdir -p "$SRC"
  local ksrc tmp
  ksrc=$(kernel_src)
  if [ -f "$ksrc/.popek-unpacked" ]; then
    say "kernel source: $ksrc (unpacked before)"
  else
    [ -f "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL is missing (Debian package $KERNEL_PACKAGE)"
    say "unpacking $KERNEL_TARBALL"
    rm -rf "$ksrc" "$ksrc.tmp"
    mkdir -p "$ksrc.tmp"
    nice -n 19 tar -xJf "$KERNEL_TARBALL" -C "$ksrc.tmp" --strip-components=1
    touch "$ksrc.tmp/.popek-unpacked"
    mv "$ksrc.tmp" "$ksrc"
  fi

  if busybox_src >/dev/null; then
    say "busybox source: $(busybox_src) (fetched before)"
  else
    tmp=$SRC/busybox.tmp
    rm -rf "$tmp"
    mkdir -p "$tmp"
    say "apt-get source $BUSYBOX_SOURCE"
    (cd "$tmp" && apt-get source -q "$BUSYBOX_SOURCE")
    local dir version
    dir=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n 1)
    [ -n "$dir" ] || die "apt-get source $BUSYBOX_SOURCE produced no busybox-* directory"
    version=${dir##*/busybox-}
    case "$version" in
    "$BUSYBOX_SERIES" | "$BUSYBOX_SERIES".*) ;;
    *) die "the recipe wants BusyBox $BUSYBOX_SERIES, apt-get source gave $version" ;;
    esac
    # The Debian version of the source package, as in its .dsc (e.g. 1:1.35.0-4+deb12u1).
    sed -n 's/^Version: //p' "$tmp"/*.dsc | head -n 1 >"$dir/.popek-debian-version"
    touch "$dir/.popek-unpacked"
    rm -rf "$SRC/busybox-$version"
    mv "$dir" "$SRC/busybox-$version"
    printf '%s\n' "$SRC/busybox-$version" >"$SRC/busybox.dir"
    rm -rf "$tmp"
  fi
}

# Apply a config fragment ("CONFIG_X=v" and "# CONFIG_X is not set" lines) to a .config: each symbol's old line is
# removed and the fragment's line appended (BusyBox's older Kconfig keeps the first assignment of a symbol).
apply_fragment() {
  local fragment=$1 config=$2 syms
  syms=$(sed -n -E 's/^(# )?(CONFIG_[A-Za-z0-9_]+)[= ].*/\2/p' "$fragment" | paste -sd'|')
  grep -v -E "^(# )?($syms)[= ]" "$config" >"$config.tmp" || true
  grep -E '^(CONFIG_|# CONFIG_)' "$fragment" >>"$config.tmp"
  mv "$config.tmp" "$config"
}

# --- kernel-config: defconfig, every module option off, the fragment, olddefconfig; the fragment must hold --------

KOBJ=$WORK/linux
kmake() { make -C "$(kernel_src)" O="$KOBJ" "$@"; }

step_kernel_config() {
  mkdir -p "$KOBJ"
  kmake -s defconfig
  # With CONFIG_MODULES=n, Kconfig would build every `=m` option of defconfig into the kernel: turn them off instead.
  sed -i -E 's/^(CONFIG_[A-Za-z0-9_]+)=m$/# \1 is not set/' "$KOBJ/.config"
  apply_fragment "$RECIPE/kernel.config" "$KOBJ/.config"
  kmake -s olddefconfig
  local line sym want got bad=0
  while IFS= read -r line; do
    case "$line" in
    CONFIG_*=*) sym=${line%%=*} want=${line#*=} ;;
    "# CONFIG_"*" is not set") sym=${line#\# } sym=${sym%% *} want=n ;;
    *) continue ;;
    esac
    got=$(sed -n "s/^$sym=//p" "$KOBJ/.config" | tail -n 1)
    [ -n "$got" ] || got=n
    if [ "$got" != "$want" ]; then
      printf 'build.sh: kernel.config asks for %s=%s, olddefconfig gave %s (a dependency is missing)\n' \
        "$sym" "$want" "$got" >&2
      bad=1
    fi
  done <"$RECIPE/kernel.config"
  [ "$bad" = 0 ] || exit 1
  say "kernel configuration: $(grep -c '=y' "$KOBJ/.config") options on, release $(kmake -s kernelrelease)"
}

# --- kernel: make Image (the long step; one line per compiled file, counted by popek for its progress bar) ---------

step_kernel() {
  [ -f "$KOBJ/.config" ] || die "no kernel configuration: run the kernel-config step first"
  # Fixed build identity: `uname -v` reads "#1 SMP <SOURCE_DATE_EPOCH date>".
  KBUILD_BUILD_TIMESTAMP=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %e %H:%M:%S UTC %Y') \
    KBUILD_BUILD_USER=popek KBUILD_BUILD_HOST=popek KBUILD_BUILD_VERSION=1 \
    nice -n 19 make -C "$(kernel_src)" O="$KOBJ" -j"$JOBS" Image
  say "kernel: $(stat -c %s "$KOBJ/arch/riscv/boot/Image") bytes"
}

# --- busybox: defconfig + fragment, static build, installed into the staging root --------------------------------

BOBJ=$WORK/busybox
step_busybox() {
  local bsrc
  bsrc=$(busybox_src) || die "no BusyBox source: run the sources step first"
  mkdir -p "$BOBJ"
  make -C "$bsrc" O="$BOBJ" -s defconfig >/dev/null
  apply_fragment "$RECIPE/busybox.config" "$BOBJ/.config"
  # BusyBox's oldconfig asks about options it does not know from .config; none are new here, so stdin is empty.
  make -C "$BOBJ" -s oldconfig </dev/null >/dev/null
  grep -q '^CONFIG_STATIC=y' "$BOBJ/.config" || die "busybox.config: CONFIG_STATIC=y did not hold"
  nice -n 19 make -C "$BOBJ" -j"$JOBS" busybox
  local file_type
  file_type=$(od -An -tx1 -j18 -N2 "$BOBJ/busybox" | tr -d ' ')
  [ "$file_type" = f300 ] || die "busybox is not a RISC-V ELF (e_machine $file_type)"
  say "busybox: $(stat -c %s "$BOBJ/busybox") bytes"
}

# --- rootfs: the userland tree, packed as a newc cpio (initramfs) and as an ext4 disk ------------------------------

ROOT=$WORK/root
step_rootfs() {
  [ -x "$BOBJ/busybox" ] || die "no BusyBox binary: run the busybox step first"
  local bsrc
  bsrc=$(busybox_src)
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  make -C "$BOBJ" -s CONFIG_PREFIX="$ROOT" install >/dev/null
  (cd "$RECIPE/rootfs" && find . -type f) | while IFS= read -r f; do
    mkdir -p "$ROOT/$(dirname "$f")"
    cp "$RECIPE/rootfs/$f" "$ROOT/$f"
    if [ -x "$RECIPE/rootfs/$f" ]; then chmod 0755 "$ROOT/$f"; else chmod 0644 "$ROOT/$f"; fi
  done
  local d
  for d in dev etc mnt proc root sys tmp var/run usr/bin usr/sbin; do mkdir -p "$ROOT/$d"; done
  find "$ROOT" -type d -exec chmod 0755 {} +
  chmod 0700 "$ROOT/root"
  chmod 1777 "$ROOT/tmp"
  find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

  # initramfs: the kernel's own gen_init_cpio (no root needed for the device nodes, owners 0:0, fixed mtimes),
  # entries sorted so that the same tree gives the same archive.
  gcc -O2 -o "$WORK/gen_init_cpio" "$(kernel_src)/usr/gen_init_cpio.c"
  local list=$WORK/initramfs.list p mode
  {
    printf 'nod /dev/console 0600 0 0 c 5 1\nnod /dev/null 0666 0 0 c 1 3\n'
    (cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort) | while IFS= read -r p; do
      p=${p#.}
      mode=$(stat -c %a "$ROOT$p")
      if [ -L "$ROOT$p" ]; then
        printf 'slink %s %s 0777 0 0\n' "$p" "$(readlink "$ROOT$p")"
      elif [ -d "$ROOT$p" ]; then
        printf 'dir %s %s 0 0\n' "$p" "$mode"
      else
        printf 'file %s %s %s 0 0\n' "$p" "$ROOT$p" "$mode"
      fi
    done
  } >"$list"
  mkdir -p "$OUT"
  "$WORK/gen_init_cpio" -t "$SOURCE_DATE_EPOCH" "$list" >"$WORK/initramfs.cpio"
  gzip -9 -n <"$WORK/initramfs.cpio" >"$OUT/initramfs.cpio.gz"

  # ext4 disk: mkfs.ext4 -d copies the tree; owners must be root, and /dev needs its two nodes for the first
  # moments before devtmpfs is mounted. Fixed UUID, hash seed and time (E2FSPROGS_FAKE_TIME) for repeatable images.
  local img=$OUT/rootfs.ext4 fake=()
  [ "$(id -u)" = 0 ] || fake=(fakeroot)
  rm -f "$img"
  "${fake[@]}" sh -e -c '
    chown -R 0:0 "$1"
    mknod -m 0600 "$1/dev/console" c 5 1
    mknod -m 0666 "$1/dev/null" c 1 3
    touch -h -d "@$SOURCE_DATE_EPOCH" "$1/dev" "$1/dev/console" "$1/dev/null"
    E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L "$2" -U 6f9a3c1e-5b1d-4a70-9c3e-706f70656b00 \
      -E hash_seed=6f9a3c1e-5b1d-4a70-9c3e-706f70656b01,root_owner=0:0 -d "$1" "$3" "$4M"
  ' sh "$ROOT" "$ROOTFS_LABEL" "$img" "$ROOTFS_MIB"
  # mkfs.ext4 -d copies each file's atime and ctime too, which reading and chown have just set to now: set them (and
  # crtime) to SOURCE_DATE_EPOCH, so that the same tree gives the same disk.
  local stamp
  stamp=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S)
  {
    printf '/\n/dev/console\n/dev/null\n'
    (cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | sed 's/^\.//')
  } | while IFS= read -r p; do
    printf 'sif "%s" atime %s\nsif "%s" ctime %s\nsif "%s" crtime %s\n' "$p" "$stamp" "$p" "$stamp" "$p" "$stamp"
  done >"$WORK/rootfs.debugfs"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH debugfs -w -f "$WORK/rootfs.debugfs" "$img" >/dev/null 2>"$WORK/debugfs.err" ||
    die "debugfs on $img failed: $(cat "$WORK/debugfs.err")"
  if grep -v '^debugfs ' "$WORK/debugfs.err" | grep -q .; then die "debugfs on $img: $(head -n 3 "$WORK/debugfs.err")"; fi

  cp "$KOBJ/arch/riscv/boot/Image" "$OUT/Image"
  cp "$KOBJ/.config" "$OUT/kernel.config"
  cp "$BOBJ/.config" "$OUT/busybox.config"
  {
    printf 'kernel_release=%s\n' "$(kmake -s kernelrelease)"
    printf '%s=%s\n' "$KERNEL_PACKAGE" "$(pkg_version "$KERNEL_PACKAGE")"
    printf 'busybox_source=%s\n' "$(cat "$bsrc/.popek-debian-version")"
    local p
    for p in gcc-riscv64-linux-gnu gcc-12-riscv64-linux-gnu binutils-riscv64-linux-gnu libc6-dev-riscv64-cross \
      e2fsprogs; do
      printf '%s=%s\n' "$p" "$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || printf unknown)"
    done
  } >"$OUT/versions.txt"
  say "initramfs.cpio.gz: $(stat -c %s "$OUT/initramfs.cpio.gz") bytes; rootfs.ext4: $ROOTFS_MIB MiB"
}

run_step() {
  # The deps step needs no work directory (it may run with sudo, which would leave a root-owned one behind).
  [ "$1" = deps ] || mkdir -p "$WORK"
  case "$1" in
  deps) step_deps ;;
  sources) step_sources ;;
  kernel-config) step_kernel_config ;;
  kernel) step_kernel ;;
  busybox) step_busybox ;;
  rootfs) step_rootfs ;;
  all) for s in deps sources kernel-config busybox kernel rootfs; do run_step "$s"; done ;;
  *) die "unknown step '$1' (deps sources kernel-config kernel busybox rootfs all)" ;;
  esac
}

[ $# -gt 0 ] || die "usage: build.sh STEP... (deps sources kernel-config kernel busybox rootfs all)"
# One line, so that bash has read all of it before running: editing this file during a build cannot derail it.
for step in "$@"; do run_step "$step"; done; exit 0
