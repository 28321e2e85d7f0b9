/* test_util.c: lib/util.h, backoff, numbers, buffers, files, randomness. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "suites.h"
#include "util.h"

#define MIB	(1024 * 1024)

/* min(cap, base * 2^n) without overflow. */
static int64_t
backoff_top(int64_t base, int64_t cap, unsigned n)
{
	int64_t top = base;

	while (n-- > 0 && top < cap)
		top = top > INT64_MAX / 2 ? INT64_MAX : top * 2;
	return top < cap ? top : cap;
}

START_TEST(test_backoff_bounds)
{
	static const int64_t bases[] = { 1, 3, 100, 1000, 86400000 };
	static const int64_t caps[] = { 0, 1, 50, 1000, 300000, 86400000 };
	size_t b, c;
	unsigned n;
	int i;
	int64_t v, top;

	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
		for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
			for (n = 0; n < 70; n++) {
				top = backoff_top(bases[b], caps[c], n);
				for (i = 0; i < 20; i++) {
					v = backoff_ms(bases[b], caps[c], n);
					ck_assert_msg(v >= 0 && v <= top,
					    "backoff_ms(%lld, %lld, %u) = %lld, "
					    "want 0..%lld",
					    (long long)bases[b],
					    (long long)caps[c], n,
					    (long long)v, (long long)top);
				}
			}
}
END_TEST

START_TEST(test_backoff_zero_base)
{
	unsigned n;

	for (n = 0; n < 100; n++) {
		ck_assert_int_eq(backoff_ms(0, 10000, n), 0);
		ck_assert_int_eq(backoff_ms(0, 0, n), 0);
		ck_assert_int_eq(backoff_ms(-5, 10000, n), 0);
	}
}
END_TEST

START_TEST(test_backoff_jitter_spans_range)
{
	int64_t v, max = -1, min = INT64_MAX;
	int i;

	/* n = 3: the range is [0, 800]. */
	for (i = 0; i < 1000; i++) {
		v = backoff_ms(100, 10000, 3);
		ck_assert(v >= 0 && v <= 800);
		if (v > max)
			max = v;
		if (v < min)
			min = v;
	}
	ck_assert_msg(max > 400, "max of 1000 samples is %lld", (long long)max);
	/* full jitter: values below base happen too */
	ck_assert_msg(min < 100, "min of 1000 samples is %lld", (long long)min);
}
END_TEST

START_TEST(test_backoff_capped)
{
	int64_t v, max = -1;
	int i;

	/* 100 * 2^10 is far past the cap: values stay within the cap and
	 * still reach its upper half. */
	for (i = 0; i < 1000; i++) {
		v = backoff_ms(100, 5000, 10);
		ck_assert(v >= 0 && v <= 5000);
		if (v > max)
			max = v;
	}
	ck_assert_int_gt(max, 2500);
}
END_TEST

START_TEST(test_parse_num)
{
	const char *errstr;
	long long v;

	errstr = "unset";
	ck_assert_int_eq(parse_num("0", 0, 10, &v, &errstr), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_ptr_null(errstr);
	ck_assert_int_eq(parse_num("10", 0, 10, &v, &errstr), 0);
	ck_assert_int_eq(v, 10);
	ck_assert_int_eq(parse_num("-10", -10, 10, &v, &errstr), 0);
	ck_assert_int_eq(v, -10);
	ck_assert_int_eq(parse_num("9223372036854775807", 0, LLONG_MAX, &v,
	    &errstr), 0);
	ck_assert_int_eq(v, LLONG_MAX);
	ck_assert_int_eq(parse_num("-9223372036854775808", LLONG_MIN, 0, &v,
	    &errstr), 0);
	ck_assert_int_eq(v, LLONG_MIN);
}
END_TEST

START_TEST(test_parse_num_errors)
{
	static const char *const invalid[] = { "", "abc", "12abc", "1.5",
	    "0x10", "1e3", "--1", "1 2", "-" };
	const char *errstr;
	long long v = 42;
	size_t i;

	ck_assert_int_eq(parse_num("11", 0, 10, &v, &errstr), -1);
	ck_assert_str_eq(errstr, "too large");
	ck_assert_int_eq(parse_num("-1", 0, 10, &v, &errstr), -1);
	ck_assert_str_eq(errstr, "too small");
	ck_assert_int_eq(parse_num("9223372036854775808", 0, LLONG_MAX, &v,
	    &errstr), -1);
	ck_assert_str_eq(errstr, "too large");
	ck_assert_int_eq(parse_num("-9223372036854775809", LLONG_MIN, 0, &v,
	    &errstr), -1);
	ck_assert_str_eq(errstr, "too small");
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		errstr = NULL;
		ck_assert_msg(parse_num(invalid[i], 0, 1000, &v, &errstr) == -1,
		    "\"%s\" accepted", invalid[i]);
		ck_assert_ptr_nonnull(errstr);
		ck_assert_str_eq(errstr, "invalid");
	}
	errstr = NULL;
	ck_assert_int_eq(parse_num(NULL, 0, 10, &v, &errstr), -1);
	ck_assert_ptr_nonnull(errstr);
	/* min > max accepts nothing */
	ck_assert_int_eq(parse_num("5", 10, 0, &v, &errstr), -1);
	/* *out is untouched by failures */
	ck_assert_int_eq(v, 42);
}
END_TEST

START_TEST(test_buf_append_grows)
{
	struct buf b = BUF_INIT;
	char chunk[4099];
	size_t i, total = 0, want = 2 * MIB + 12345;
	int bad = 0;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)('a' + i % 26);
	while (total < want) {
		size_t n = want - total < sizeof(chunk) ? want - total :
		    sizeof(chunk);

		ck_assert_int_eq(buf_append(&b, chunk, n), 0);
		total += n;
		ck_assert_uint_eq(b.len, total);
		ck_assert_uint_ge(b.cap, b.len + 1);
		ck_assert(b.data[b.len] == '\0');
	}
	for (i = 0; i < total; i++)
		if (b.data[i] != (char)('a' + (i % sizeof(chunk)) % 26)) {
			bad = 1;
			break;
		}
	buf_release(&b);
	ck_assert_msg(!bad, "content differs at %zu", i);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(test_buf_append_one_big)
{
	struct buf b = BUF_INIT;
	char *big;
	size_t n = 3 * MIB + 1;
	int same;

	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	memset(big, 'z', n);
	ck_assert_int_eq(buf_append(&b, "x", 1), 0);
	ck_assert_int_eq(buf_append(&b, big, n), 0);
	ck_assert_uint_eq(b.len, n + 1);
	same = b.data[0] == 'x' && memcmp(b.data + 1, big, n) == 0 &&
	    b.data[n + 1] == '\0';
	free(big);
	buf_release(&b);
	ck_assert(same);
}
END_TEST

START_TEST(test_buf_empty_append)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_append(&b, NULL, 0), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	ck_assert_int_eq(buf_append(&b, "a\0b", 3), 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert(memcmp(b.data, "a\0b", 4) == 0);
	buf_release(&b);
}
END_TEST

START_TEST(test_buf_printf_grows)
{
	struct buf b = BUF_INIT;
	char want[32];
	size_t i, n = 200000, pos = 0;
	int bad = -1;

	/* 200000 * 7 bytes = 1.4 MB, past 1 MiB */
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(buf_printf(&b, "%06zu,", i), 0);
		ck_assert_uint_ge(b.cap, b.len + 1);
	}
	ck_assert_uint_eq(b.len, n * 7);
	ck_assert_uint_gt(b.len, MIB);
	ck_assert_uint_eq(strlen(b.data), b.len);
	for (i = 0; i < n && bad == -1; i++) {
		snprintf(want, sizeof(want), "%06zu,", i);
		if (memcmp(b.data + pos, want, 7) != 0)
			bad = (int)i;
		pos += 7;
	}
	buf_release(&b);
	ck_assert_msg(bad == -1, "entry %d differs", bad);
}
END_TEST

START_TEST(test_buf_printf_big)
{
	struct buf b = BUF_INIT;
	char *big;
	size_t n = 2 * MIB;
	int same;

	big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'q', n);
	big[n] = '\0';
	ck_assert_int_eq(buf_printf(&b, "<%s>", big), 0);
	ck_assert_uint_eq(b.len, n + 2);
	same = b.data[0] == '<' && memcmp(b.data + 1, big, n) == 0 &&
	    b.data[n + 1] == '>' && b.data[n + 2] == '\0';
	/* mixed with buf_append */
	ck_assert_int_eq(buf_append(&b, "tail", 4), 0);
	ck_assert_int_eq(buf_printf(&b, "%d", 42), 0);
	same = same && b.len == n + 8 && strcmp(b.data + n + 2, "tail42") == 0;
	free(big);
	buf_release(&b);
	ck_assert(same);
}
END_TEST

START_TEST(test_buf_printf_empty)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_printf(&b, "%s", ""), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	buf_release(&b);
}
END_TEST

START_TEST(test_buf_reset)
{
	struct buf b = BUF_INIT;
	size_t cap;

	buf_reset(&b);		/* on an empty buffer: nothing to do */
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(buf_printf(&b, "hello %s", "world"), 0);
	ck_assert_str_eq(b.data, "hello world");
	cap = b.cap;
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	ck_assert_uint_eq(b.cap, cap);
	ck_assert_int_eq(buf_append(&b, "x", 1), 0);
	ck_assert_str_eq(b.data, "x");
	buf_release(&b);
	buf_release(&b);	/* twice is fine */
}
END_TEST

/*
 * read_file, in a directory made once for the test case, in the parent
 * process when forking, so that it goes even when a test fails.
 */

static char fdir[512];

static void
file_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(fdir, sizeof(fdir), "%s/tq-unit-util-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(fdir));
}

static void
file_teardown(void)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/f", fdir);
	unlink(path);
	rmdir(fdir);
}

/* Writes n bytes of a pattern (with NULs) to fdir/f; returns the path. */
static const char *
make_file(size_t n)
{
	static char path[600];
	char chunk[8192];
	size_t i, left = n, w;
	int fd;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)(i % 251);
	snprintf(path, sizeof(path), "%s/f", fdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ne(fd, -1);
	while (left > 0) {
		w = left < sizeof(chunk) ? left : sizeof(chunk);
		ck_assert_int_eq(write(fd, chunk, w), (ssize_t)w);
		left -= w;
	}
	ck_assert_int_eq(close(fd), 0);
	return path;
}

/* Whether the buffer holds n bytes of make_file's pattern. */
static int
is_pattern(const struct buf *b, size_t n)
{
	size_t i;

	if (b->len != n || b->data == NULL || b->data[n] != '\0')
		return 0;
	for (i = 0; i < n; i++)
		if (b->data[i] != (char)((i % 8192) % 251))
			return 0;
	return 1;
}

START_TEST(test_read_file)
{
	struct buf b = BUF_INIT;
	const char *path;
	int ok;

	/* 200 KiB: more than one read() chunk */
	path = make_file(200 * 1024 + 3);
	ck_assert_int_eq(read_file(path, 1 * MIB, &b), 0);
	ok = is_pattern(&b, 200 * 1024 + 3);
	buf_release(&b);
	ck_assert(ok);

	/* max equal to the size is enough */
	path = make_file(1000);
	ck_assert_int_eq(read_file(path, 1000, &b), 0);
	ok = is_pattern(&b, 1000);
	buf_release(&b);
	ck_assert(ok);
}
END_TEST

START_TEST(test_read_file_empty)
{
	struct buf b = BUF_INIT;
	const char *path;

	path = make_file(0);
	ck_assert_int_eq(read_file(path, 10, &b), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	buf_release(&b);
	ck_assert_int_eq(read_file(path, 0, &b), 0);
	buf_release(&b);
}
END_TEST

START_TEST(test_read_file_too_big)
{
	struct buf b = BUF_INIT;
	const char *path;
	int rc, e;

	path = make_file(1001);
	errno = 0;
	rc = read_file(path, 1000, &b);
	e = errno;
	buf_release(&b);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e, EFBIG);

	/* a large file, many chunks past the limit */
	path = make_file(300 * 1024);
	errno = 0;
	rc = read_file(path, 100 * 1024, &b);
	e = errno;
	ck_assert_uint_le(b.len, 100 * 1024);
	buf_release(&b);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e, EFBIG);

	path = make_file(1);
	errno = 0;
	rc = read_file(path, 0, &b);
	e = errno;
	buf_release(&b);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(e, EFBIG);
}
END_TEST

START_TEST(test_read_file_missing)
{
	struct buf b = BUF_INIT;
	char path[600];

	snprintf(path, sizeof(path), "%s/nope", fdir);
	errno = 0;
	ck_assert_int_eq(read_file(path, 100, &b), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_rand_below)
{
	int seen[10] = { 0 };
	uint64_t v;
	int i;

	for (i = 0; i < 1000; i++) {
		v = rand_below(10);
		ck_assert_uint_lt(v, 10);
		seen[v]++;
	}
	for (i = 0; i < 10; i++)
		ck_assert_msg(seen[i] > 0, "%d never drawn", i);
	for (i = 0; i < 100; i++) {
		ck_assert_uint_eq(rand_below(1), 0);
		ck_assert_uint_eq(rand_below(0), 0);
		ck_assert_uint_lt(rand_below(UINT64_MAX), UINT64_MAX);
	}
}
END_TEST

START_TEST(test_rand_bytes)
{
	uint8_t a[64], b[64];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	ck_assert_int_eq(rand_bytes(a, sizeof(a)), 0);
	ck_assert_int_eq(rand_bytes(b, sizeof(b)), 0);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	ck_assert_int_eq(rand_bytes(a, 0), 0);
}
END_TEST

START_TEST(test_clocks)
{
	int64_t a, b;

	a = now_ms();
	b = now_ms();
	ck_assert_int_ge(b, a);
	/* after 2001-09-09 */
	ck_assert_int_gt(wall_ms(), 1000000000000LL);
	sleep_ms(0);
	sleep_ms(-1);
}
END_TEST

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tb = tcase_create("backoff");
	TCase *tn = tcase_create("numbers");
	TCase *tbuf = tcase_create("buf");
	TCase *tf = tcase_create("read_file");
	TCase *tr = tcase_create("rand");

	tcase_set_timeout(tb, 60);
	tcase_add_test(tb, test_backoff_bounds);
	tcase_add_test(tb, test_backoff_zero_base);
	tcase_add_test(tb, test_backoff_jitter_spans_range);
	tcase_add_test(tb, test_backoff_capped);
	suite_add_tcase(s, tb);

	tcase_add_test(tn, test_parse_num);
	tcase_add_test(tn, test_parse_num_errors);
	suite_add_tcase(s, tn);

	tcase_set_timeout(tbuf, 60);
	tcase_add_test(tbuf, test_buf_append_grows);
	tcase_add_test(tbuf, test_buf_append_one_big);
	tcase_add_test(tbuf, test_buf_empty_append);
	tcase_add_test(tbuf, test_buf_printf_grows);
	tcase_add_test(tbuf, test_buf_printf_big);
	tcase_add_test(tbuf, test_buf_printf_empty);
	tcase_add_test(tbuf, test_buf_reset);
	suite_add_tcase(s, tbuf);

	tcase_set_timeout(tf, 60);
	tcase_add_unchecked_fixture(tf, file_setup, file_teardown);
	tcase_add_test(tf, test_read_file);
	tcase_add_test(tf, test_read_file_empty);
	tcase_add_test(tf, test_read_file_too_big);
	tcase_add_test(tf, test_read_file_missing);
	suite_add_tcase(s, tf);

	tcase_add_test(tr, test_rand_below);
	tcase_add_test(tr, test_rand_bytes);
	tcase_add_test(tr, test_clocks);
	suite_add_tcase(s, tr);
	return s;
}
