#!/usr/bin/env bash
# Builds rein as a static musl binary in release mode for one target (x86_64 by default),
# checks that it is statically linked, and prints its path and size. Whatever a cross target
# needs from Debian (a cross gcc, musl for that architecture) is installed on first use.
#
#   scripts/build-static.sh [--target TARGET] [--stock-std]
#   scripts/build-static.sh --targets     # the target table below, without comments
#
# TARGET is a name from the table's first column (aarch64) or its triple.
#
# By default std is rebuilt from the toolchain's own sources with panic=immediate-abort.
# Stock std links its backtrace symbolizer (gimli, addr2line, libunwind, a demangler: about
# 140 KB) into every binary, even with panic=abort, and rein never prints a backtrace: it never
# panics by design, and a PID 1 that did would end the container either way. Measured with
# opt-level "z": 190,664 bytes this way, 533,144 with stock std (see README, "Measured").
# -Zbuild-std is unstable; RUSTC_BOOTSTRAP=1 lets the installed stable compiler accept it, so
# no other toolchain is fetched. --stock-std builds with the prebuilt std instead (x86_64
# only: rustup cannot download the other targets' std here, but rust-src builds it for any).
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything rein knows per target, in one place; scripts/release.sh and .ci/run read it
# through --targets.
#   name     what release files are called (rein-VERSION-NAME)
#   triple   the Rust target
#   deb      Debian's name for the architecture (packages, dpkg --add-architecture)
#   gcc      the cross gcc's prefix, which links (and finds crtbegin.o, libgcc_eh.a); "-" for
#            x86_64, where rustup's own musl target links with its self-contained crt objects
#   musl     directory name of Debian's musl-dev for it under /usr/lib
#   from     where that musl-dev comes from: bookworm (multiarch, dpkg --add-architecture) or
#            trixie (bookworm has no riscv64 port: the .deb is fetched from Debian 13 and
#            unpacked under target/, nothing is installed)
#   unwind   what stands in for the libunwind.a that std's musl link asks for: gcc's own
#            libgcc_eh.a; "+dlfo" adds a _dl_find_object that finds nothing, because
#            powerpc64le's libgcc_eh (built for glibc 2.35) calls it and musl has none. rein
#            never unwinds (panic=immediate-abort), so neither is ever called.
#   qemu     the qemu-user binfmt entry that runs it on x86_64 ("-": runs natively)
#   relr     "relr": linked with -z pack-relative-relocs, which stores a static-PIE's pointer
#            relocations as a DT_RELR bitmap instead of one 24-byte RELA entry each, applied
#            by musl's start-up code (1.2.4 and newer; Rust's own musl for x86_64): 12,216 B
#            smaller and ~2,000 fewer instructions before main. "-" elsewhere, where it would
#            change nothing: binutils 2.40's ld ignores it for aarch64, arm, riscv64, ppc64 and
#            s390x ("-z pack-relative-relocs ignored"; it has DT_RELR for x86 only), and the
#            i686 binary is not PIE, so it has no relative relocations to pack. REIN_RELR=1
#            forces it on, REIN_RELR=0 off (to measure, or to try on a new target).
targets() {
  cat <<'EOF'
# name   triple                          deb      gcc                    musl                    from      unwind          qemu     relr
x86_64   x86_64-unknown-linux-musl       amd64    -                      -                       -         -               -        relr
aarch64  aarch64-unknown-linux-musl      arm64    aarch64-linux-gnu      aarch64-linux-musl      bookworm  libgcc_eh       aarch64  -
armv7    armv7-unknown-linux-musleabihf  armhf    arm-linux-gnueabihf    arm-linux-musleabihf    bookworm  libgcc_eh       arm      -
i686     i686-unknown-linux-musl         i386     i686-linux-gnu         i386-linux-musl         bookworm  libgcc_eh       -        -
riscv64  riscv64gc-unknown-linux-musl    riscv64  riscv64-linux-gnu      riscv64-linux-musl      trixie    libgcc_eh       riscv64  -
ppc64le  powerpc64le-unknown-linux-musl  ppc64el  powerpc64le-linux-gnu  powerpc64le-linux-musl  bookworm  libgcc_eh+dlfo  ppc64le  -
s390x    s390x-unknown-linux-musl        s390x    s390x-linux-gnu        s390x-linux-musl        bookworm  libgcc_eh       s390x    -
EOF
}

usage() {
  echo "usage: $0 [--target TARGET] [--stock-std] | --targets" >&2
  echo "TARGET: $(targets | awk '!/^#/ {printf "%s ", $1}')" >&2
  exit 2
}

want=x86_64
mode=rebuilt-std
while [ $# -gt 0 ]; do
  case "$1" in
    --target) [ $# -ge 2 ] || usage; want=$2; shift 2 ;;
    --stock-std) mode=stock-std; shift ;;
    --targets) targets | grep -v '^#'; exit 0 ;;
    *) usage ;;
  esac
done
row=$(targets | awk -v t="$want" '!/^#/ && ($1 == t || $2 == t)')
[ -n "$row" ] || usage
read -r name target deb gcc musl from unwind _qemu relr <<<"$row"
if [ "$mode" = stock-std ] && [ "$name" != x86_64 ]; then
  echo "error: --stock-std needs rustup's prebuilt std, which exists here for x86_64 only" >&2
  exit 2
fi

# cargo's target dir (CARGO_TARGET_DIR, else target/), absolute: the unwind shim and a fetched
# musl live there too, so that their -L paths, and with them RUSTFLAGS, are the same from any
# checkout that shares it (.ci/run's second release build reuses the first one's std).
tdir=$(realpath -m "${CARGO_TARGET_DIR:-target}")

apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq "$@" >&2
}

# Debian's musl for a target from a newer release, unpacked under target/ (nothing installed):
# a private apt state that lists only that release for that one architecture.
fetch_musl() {
  local dir="$tdir/debian-musl/$deb" state="$tdir/debian-musl/apt-$from"
  if [ ! -d "$dir/usr/lib/$musl" ]; then
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dir"
    echo "deb [arch=$deb signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
      "http://deb.debian.org/debian $from main" >"$state/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
      -o "APT::Architectures::=$deb" -o APT::Sandbox::User=root)
    apt-get "${opts[@]}" -qq update >&2
    (cd "$state" && apt-get "${opts[@]}" -qq download "musl-dev:$deb" >&2)
    dpkg-deb -x "$state"/musl-dev_*_"$deb".deb "$dir"
  fi
  echo "$dir/usr/lib/$musl"
}

# Installs the cross gcc and musl for the target if missing; prints musl's library directory.
setup_cross() {
  local libdir="/usr/lib/$musl" pkgs=()
  command -v "$gcc-gcc" >/dev/null || pkgs+=("gcc-$gcc")
  if [ "$from" = bookworm ] && [ ! -e "$libdir/libc.a" ]; then
    if ! dpkg --print-foreign-architectures | grep -qx "$deb"; then
      dpkg --add-architecture "$deb"
      apt_get update
    fi
    pkgs+=("musl-dev:$deb")
  fi
  if [ ${#pkgs[@]} -gt 0 ]; then
    echo "installing ${pkgs[*]}" >&2
    apt_get install --no-install-recommends "${pkgs[@]}" ||
      { apt_get update && apt_get install --no-install-recommends "${pkgs[@]}"; }
  fi
  if [ "$from" != bookworm ]; then
    fetch_musl
  else
    echo "$libdir"
  fi
}

# A directory holding the libunwind.a that std's musl link asks for (see the table).
unwind_shim() {
  local dir="$tdir/unwind-shim/$target" eh
  eh=$("$gcc-gcc" -print-file-name=libgcc_eh.a)
  mkdir -p "$dir"
  rm -f "$dir"/*
  case "$unwind" in
    libgcc_eh) ln -s "$eh" "$dir/libunwind.a" ;;
    libgcc_eh+dlfo)
      cp "$eh" "$dir/libunwind.a"
      printf '%s\n' 'int _dl_find_object(void *pc, void *result);' \
        'int _dl_find_object(void *pc, void *result) { (void)pc; (void)result; return -1; }' |
        "$gcc-gcc" -O2 -c -x c - -o "$dir/dl_find_object.o"
      ar rD "$dir/libunwind.a" "$dir/dl_find_object.o"
      ;;
    *) echo "error: unknown unwind shim '$unwind'" >&2; exit 1 ;;
  esac
  echo "$dir"
}

if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  rustup component add rust-src >&2
fi
flags="-Zunstable-options -Cpanic=immediate-abort -Ctarget-feature=+crt-static"
case "${REIN_RELR:-$relr}" in
  relr | 1) flags="$flags -Clink-arg=-Wl,-z,pack-relative-relocs" ;;
esac
cross=(env)
if [ "$gcc" = - ]; then
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    rustup target add "$target" >&2
  fi
else
  libdir=$(setup_cross)
  shim=$(unwind_shim)
  gccdir=$(dirname "$("$gcc-gcc" -print-libgcc-file-name)")
  # std's crt objects for musl targets come with rustup's target, which is missing here, so
  # rustc falls back to musl's own (crt1.o, crti.o, crtn.o from -L) and gcc's crtbegin.o.
  flags="$flags -Lnative=$libdir -Lnative=$gccdir -Lnative=$shim"
  linker_var="CARGO_TARGET_$(echo "$target" | tr 'a-z-' 'A-Z_')_LINKER"
  cross+=("$linker_var=$gcc-gcc")
fi
if [ "$mode" = rebuilt-std ]; then
  # RUSTFLAGS replaces .cargo/config.toml's rustflags, so crt-static is repeated here.
  "${cross[@]}" RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" \
    cargo build --release --locked --target "$target" -Zbuild-std=std,panic_abort >&2
else
  cargo build --release --locked --target "$target" >&2
fi
bin="${CARGO_TARGET_DIR:-target}/$target/release/rein"
# `file` says "static-pie linked" or "statically linked"; either way there is no interpreter.
if command -v file >/dev/null 2>&1; then
  desc=$(file -b "$bin")
  case "$desc" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) echo "error: $bin is not static: $desc" >&2; exit 1 ;;
  esac
elif readelf -l "$bin" 2>/dev/null | grep -q INTERP; then
  echo "error: $bin has an ELF interpreter (dynamically linked)" >&2
  exit 1
fi
size=$(stat -c %s "$bin")
echo "$bin $size bytes ($((size / 1024)) KiB), static, $mode, $name"
