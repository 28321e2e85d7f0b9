# shellcheck shell=bash source-path=SCRIPTDIR
# Memory: a supervisor with 8 idle workers holds under 4 MB of its own
# (anonymous, from smaps_rollup: its heap and stacks; its RSS counts the
# shared, clean pages of libmicrohttpd and GnuTLS too, and is noted only),
# each idle worker stays under 16 MB resident.
. "$(dirname "$0")/lib.sh"
# A sanitized build (make asan) maps shadow memory: its RSS says nothing
# about the budget, which the plain build's run checks.
if [ -n "${ASAN_OPTIONS:-}" ]; then
	note "skipped under AddressSanitizer: RSS budgets apply to the plain build"
	exit 0
fi
fresh_db
sup_start sup --queue "$TQ_QUEUE" --workers 8 --node rss1
sup_wait_ready sup 8 || fail "8 workers not consuming: $(sup_workers sup | tr '\n' ';')"
sleep 2
[ "$(sup_workers sup | awk '$3 == "idle"' | wc -l)" -eq 8 ] || fail "want 8 idle workers: $(sup_workers sup | tr '\n' ';')"

rss_kb() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}
sup_kb=$(rss_kb "${SUP_PID[sup]}")
[ -n "$sup_kb" ] || fail "no VmRSS for the supervisor"
sup_anon=$(awk '$1 == "Anonymous:" { print $2 }' "/proc/${SUP_PID[sup]}/smaps_rollup")
[ -n "$sup_anon" ] || fail "no Anonymous in the supervisor's smaps_rollup"
note "supervisor: anonymous ${sup_anon} kB (limit 4096 kB), RSS ${sup_kb} kB"
max=0 all=
for p in $(sup_up_pids sup); do
	kb=$(rss_kb "$p")
	[ -n "$kb" ] || fail "no VmRSS for worker $p"
	all="$all $kb"
	[ "$kb" -gt "$max" ] && max=$kb
	[ "$kb" -lt 16384 ] || fail "idle worker $p RSS $kb kB, limit 16384 kB"
done
note "idle worker RSS (kB):$all; max $max kB (limit 16384 kB)"
[ "$sup_anon" -lt 4096 ] || fail "supervisor anonymous memory $sup_anon kB, limit 4096 kB"

# Figures only: how the idle supervisor's memory moves over 3 more s.
vm() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
size0=$(vm "${SUP_PID[sup]}" VmSize) rss0=$(vm "${SUP_PID[sup]}" VmRSS)
sleep 3
size1=$(vm "${SUP_PID[sup]}" VmSize) rss1=$(vm "${SUP_PID[sup]}" VmRSS)
note "idle supervisor over 3 s: VmSize $size0 -> $size1 kB, VmRSS $rss0 -> $rss1 kB"

sup_stop sup
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
