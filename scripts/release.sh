#!/usr/bin/env bash
# Writes a release of the checked-out commit to dist/ (or --out DIR):
#   rein-VERSION-NAME        the static binary for each target (scripts/build-static.sh)
#   rein_VERSION_DEB.deb     a Debian package for each: /usr/bin/rein, the man page, README,
#                            copyright and changelog under /usr/share/doc/rein
#   rein.1                   the man page (packaging/rein.1 with version and date)
#   SHA256SUMS               for all of the above
#
#   scripts/release.sh [--out DIR] [NAME...]    # NAME: x86_64 aarch64 ...; default all
#   scripts/release.sh --check DIR              # lint and install-test a release
#
# Reproducible: two runs on the same commit, in different directories, write the same bytes.
# Every timestamp is SOURCE_DATE_EPOCH, taken from the commit unless already set; files are
# packed in sorted order with fixed owners and modes, and gzip stores no name or time.
# --check lints the man page (mandoc, man), runs lintian on every package (errors fail;
# warnings are printed), and installs each package with dpkg -i, runs `rein --version` (a
# foreign one through qemu-user's binfmt_misc entry) and removes it again.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
umask 022

usage() {
  echo "usage: $0 [--out DIR] [NAME...] | --check DIR" >&2
  exit 2
}

version=$(awk -F'"' '/^\[package\]/ {p = 1} p && /^version *=/ {print $2; exit}' Cargo.toml)
[ -n "$version" ] || { echo "error: no version in Cargo.toml" >&2; exit 1; }

check() {
  local dir=$1 fail=0 deb arch warn
  echo "== man page: mandoc -T lint, man --warnings" >&2
  warn=$(mandoc -T lint "$dir/rein.1" 2>&1 || true)
  warn+=$(MANWIDTH=80 man --warnings -l "$dir/rein.1" 2>&1 >/dev/null || true)
  if [ -n "$warn" ]; then
    printf '%s\n' "$warn" >&2
    fail=1
  fi
  echo "== sha256sum -c" >&2
  (cd "$dir" && sha256sum --quiet -c SHA256SUMS) || fail=1
  if dpkg -s rein >/dev/null 2>&1; then
    echo "error: a rein package is installed already; --check installs and removes its own" >&2
    return 1
  fi
  echo "== lintian" "$dir"/rein_*.deb >&2
  # One run for all packages: lintian's start-up is most of its time. Warnings are printed;
  # only errors fail (see README, "Installing").
  local t=$SECONDS
  lintian --fail-on error --tag-display-limit 0 "$dir"/rein_*.deb >&2 || fail=1
  echo "lintian: $((SECONDS - t)) s" >&2
  t=$SECONDS
  # man-db's dpkg trigger re-indexes every man page on each install and each removal, half of
  # a round trip's time; nothing here reads that index, so it is off meanwhile (and back on
  # however this ends).
  local mandb=/var/lib/man-db/auto-update
  if [ -e "$mandb" ]; then
    mv "$mandb" "$mandb.rein-check"
    trap 'mv "'"$mandb"'.rein-check" "'"$mandb"'"' EXIT
  fi
  for deb in "$dir"/rein_*.deb; do
    arch=$(dpkg-deb -f "$deb" Architecture)
    if [ "$arch" != "$(dpkg --print-architecture)" ] &&
      ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
      dpkg --add-architecture "$arch"
    fi
    echo "== dpkg -i $(basename "$deb")" >&2
    if dpkg -i "$deb" >&2 && [ "$(/usr/bin/rein --version)" = "rein $version" ]; then
      dpkg -r rein >&2
    else
      echo "error: $(basename "$deb") did not install a working /usr/bin/rein" \
        "(a foreign architecture runs only through qemu-user's binfmt_misc entry, which" \
        "scripts/test-arch.sh installs and registers)" >&2
      dpkg -r rein >&2 || true
      fail=1
    fi
  done
  echo "dpkg -i, rein --version, dpkg -r of every package: $((SECONDS - t)) s" >&2
  return $fail
}

out=dist
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --check) [ $# -eq 2 ] || usage; check "$2"; exit ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    -*) usage ;;
    *) names+=("$1"); shift ;;
  esac
done
table=$(scripts/build-static.sh --targets)
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <(awk '{print $1}' <<<"$table")
fi

commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "warning: the work tree has uncommitted changes; the release is not that of $commit" >&2
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
day=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
rfc2822=$(date -u -R -d "@$SOURCE_DATE_EPOCH")

rm -rf "$out"
mkdir -p "$out"
stamp() { touch -h -d "@$SOURCE_DATE_EPOCH" "$@"; }

sed -e "s/@VERSION@/$version/g" -e "s/@DATE@/$day/g" packaging/rein.1 >"$out/rein.1"
stamp "$out/rein.1"

# One tree for everything the packages share; each package copies it and adds its binary.
common="target/release-tree"
rm -rf "$common"
mkdir -p "$common/usr/share/man/man1" "$common/usr/share/doc/rein" \
  "$common/usr/share/lintian/overrides"
gzip -9n <"$out/rein.1" >"$common/usr/share/man/man1/rein.1.gz"
gzip -9n <README.md >"$common/usr/share/doc/rein/README.md.gz"
cp packaging/debian/copyright "$common/usr/share/doc/rein/copyright"
sed -e "s/@VERSION@/$version/g" -e "s/@COMMIT@/$commit/g" -e "s/@DATE@/$rfc2822/g" \
  packaging/debian/changelog.in | gzip -9n >"$common/usr/share/doc/rein/changelog.gz"
sed -e '/^#/d' packaging/debian/lintian-overrides >"$common/usr/share/lintian/overrides/rein"

for name in "${names[@]}"; do
  read -r _ _ deb _ <<<"$(awk -v n="$name" '$1 == n' <<<"$table")"
  [ -n "$deb" ] || { echo "error: unknown target '$name'" >&2; usage; }
  echo "== $name" >&2
  bin=$(scripts/build-static.sh --target "$name" | tail -n 1 | awk '{print $1}')
  install -m 0755 "$bin" "$out/rein-$version-$name"
  stamp "$out/rein-$version-$name"

  root="target/deb/$name"
  rm -rf "$root"
  mkdir -p "$(dirname "$root")"
  cp -a "$common" "$root"
  install -D -m 0755 "$bin" "$root/usr/bin/rein"
  mkdir -p "$root/DEBIAN"
  # Installed-Size: KiB, each file rounded up, as dpkg-gencontrol counts it.
  size=$(find "$root" -path "$root/DEBIAN" -prune -o -type f -printf '%s\n' |
    awk '{k += int(($1 + 1023) / 1024)} END {print k}')
  sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$deb/" -e "s/@SIZE@/$size/" \
    packaging/debian/control.in >"$root/DEBIAN/control"
  (cd "$root" && find usr -type f | sort | xargs md5sum >DEBIAN/md5sums)
  find "$root" -type d -exec chmod 0755 {} +
  find "$root" -type f ! -path "$root/usr/bin/rein" -exec chmod 0644 {} +
  find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  # dpkg-deb sorts the members and, with SOURCE_DATE_EPOCH, stamps the ar archive with it.
  dpkg-deb --root-owner-group -Zxz --build "$root" "$out/rein_${version}_$deb.deb" >&2
  stamp "$out/rein_${version}_$deb.deb"
done

(cd "$out" && sha256sum rein-"$version"-* rein_*.deb rein.1 >SHA256SUMS)
stamp "$out/SHA256SUMS"
echo "$out: release $version of $commit (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)" >&2
cat "$out/SHA256SUMS"
