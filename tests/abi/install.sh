#!/usr/bin/env bash
# make install into a scratch DESTDIR: libtq.so.1.N.0 with its soname
# links, libtq.a, tq.h and a tq.pc with which a program builds and runs
# against the installed library alone. Usage: tests/abi/install.sh
set -eu
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
T=$(mktemp -d "${TMPDIR:-/tmp}/tq-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() {
	printf 'FAIL install: %s\n' "$*" >&2
	exit 1
}
prefix=/opt/tq-test
${MAKE:-make} -s install DESTDIR="$T/root" PREFIX=$prefix >"$T/install.log" 2>&1 ||
	fail "make install: $(tail -n 5 "$T/install.log")"
lib=$T/root$prefix/lib
ver=$(sed -n 's/^TQ_VERSION *:= *//p' Makefile)
case $ver in 1.*) ;; *) fail "TQ_VERSION \"$ver\": not 1.N.M (a new soname is a new test)" ;; esac
[ -f "$lib/libtq.so.$ver" ] && [ -f "$lib/libtq.a" ] &&
	[ -f "$T/root$prefix/include/tq.h" ] || fail "files missing: $(cd "$T/root" && find . | tr '\n' ' ')"
[ "$(readlink "$lib/libtq.so.1")" = "libtq.so.$ver" ] || fail "libtq.so.1 -> $(readlink "$lib/libtq.so.1")"
[ "$(readlink "$lib/libtq.so")" = libtq.so.1 ] || fail "libtq.so -> $(readlink "$lib/libtq.so")"
grep -qx "prefix=$prefix" "$lib/pkgconfig/tq.pc" || fail "tq.pc: $(cat "$lib/pkgconfig/tq.pc")"
cat >"$T/app.c" <<'C'
#include <stdio.h>
#include <tq.h>

int
main(void)
{
	struct tq_task t = TQ_TASK_INIT;
	char err[512], id[TQ_ID_LEN + 1];
	tq_client *tq;

	if ((tq = tq_open(NULL, err, sizeof(err))) == NULL)
		return 1;
	t.name = "bad name";
	if (tq_submit_task(tq, &t, id) != -1)
		return 1;
	printf("%s\n", tq_error(tq));
	tq_close(tq);
	return 0;
}
C
export PKG_CONFIG_SYSROOT_DIR=$T/root PKG_CONFIG_PATH=$lib/pkgconfig
# shellcheck disable=SC2046
${CC:-cc} -Wall -Werror -o "$T/app" "$T/app.c" $(pkg-config --cflags --libs tq) ||
	fail "a program does not build with pkg-config's tq"
readelf -d "$T/app" | grep -q 'NEEDED.*\[libtq.so.1\]' || fail "app does not need libtq.so.1"
out=$(LD_LIBRARY_PATH=$lib "$T/app") || fail "app exited $?"
[ "$out" = 'bad task name "bad name"' ] || fail "app printed: $out"
echo "install: libtq.so.$ver, its links, tq.h and tq.pc under DESTDIR; a program builds with pkg-config and runs"
