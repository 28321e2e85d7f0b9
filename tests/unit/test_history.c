/* test_history.c: durations, retention windows, counters of finished
 * tasks. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "config.h"
#include "suites.h"
#include "tally.h"
#include "util.h"

START_TEST(test_parse_duration)
{
	static const struct {
		const char	*in;
		long long	 ms;
	} ok[] = {
		{ "0", 0 }, { "30", 30000 }, { "30s", 30000 }, { "500ms", 500 },
		{ "90m", 5400000 }, { "12h", 43200000 }, { "7d", 604800000 },
	};
	static const char *const bad[] = { "", "s", "7x", "-1d", "1.5h", "d7",
	    "99999999999d", "7 d", NULL };
	const char *errstr;
	long long v;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(parse_duration(ok[i].in, 3650LL * 86400000, &v,
		    &errstr) == 0, "%s refused", ok[i].in);
		ck_assert_int_eq(v, ok[i].ms);
	}
	for (i = 0; bad[i]; i++)
		ck_assert_msg(parse_duration(bad[i], 3650LL * 86400000, &v,
		    &errstr) == -1, "\"%s\" taken", bad[i]);
}
END_TEST

START_TEST(test_keep_windows)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	ck_assert_int_eq(config_keep_ms(&c, "q", TS_SUCCEEDED), 604800000);
	ck_assert_int_eq(config_keep_ms(&c, "q", TS_FAILED), 30LL * 86400000);
	ck_assert_int_eq(config_keep_ms(&c, "q", TS_CANCELLED), 604800000);
	ck_assert_int_eq(config_keep_ms(&c, "q", TS_RUNNING), -1);
	ck_assert_int_eq(config_keep_max_ms(&c), 30LL * 86400000);
	ck_assert_int_eq(config_set(&c, "keep_succeeded", "36h", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_keep_ms(&c, "q", TS_SUCCEEDED), 36 * 3600000LL);
	ck_assert_int_eq(config_set(&c, "keep_failed", "fortnight", err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "keep_failed"));
	ck_assert_int_eq(config_set(&c, "keep_cancelled", "0", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(config_keep_max_ms(&c), 0);	/* forever */
}
END_TEST

START_TEST(test_tally_counts_and_deltas)
{
	struct tally t = TALLY_INIT;
	struct rollup_row *r;
	struct buf b = BUF_INIT;
	int n;

	ck_assert_int_eq(tally_add(&t, "q", "a", RO_SUCCEEDED, 1000, 2000, 0),
	    0);
	ck_assert_int_eq(tally_add(&t, "q", "a", RO_SUCCEEDED, 3000, -1, 0), 0);
	ck_assert_int_eq(tally_add(&t, "q", "b", RO_RETRIED, 7000000, -1, 1),
	    0);
	n = tally_take(&t, &r);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(r[0].name, "a");
	ck_assert_int_eq(r[0].outcome, RO_SUCCEEDED);
	ck_assert_uint_eq(r[0].n, 2);
	ck_assert_uint_eq(r[0].run_us, 4000);
	free(r);
	/* Taken once; a failed write puts them back. */
	ck_assert_int_eq(tally_take(&t, &r), 0);
	ck_assert_int_eq(tally_add(&t, "q", "a", RO_FAILED, 10, -1, 0), 0);
	ck_assert_int_eq(tally_take(&t, &r), 1);
	tally_untake(&t, r, 1);
	free(r);
	ck_assert_int_eq(tally_take(&t, &r), 1);
	ck_assert_uint_eq(r[0].n, 1);
	free(r);
	/* The counters keep everything. */
	ck_assert_int_eq(tally_render(&t, "node=\"x\",", &b), 0);
	ck_assert_ptr_nonnull(strstr(b.data, "tq_tasks_finished_total{node=\"x"
	    "\",queue=\"q\",name=\"a\",outcome=\"succeeded\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "tq_task_timeouts_total{node=\"x\","
	    "queue=\"q\",name=\"b\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "tq_task_wait_seconds_count{node="
	    "\"x\",queue=\"q\",name=\"a\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "tq_task_duration_seconds_bucket{"
	    "node=\"x\",queue=\"q\",name=\"b\",le=\"5\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "tq_task_duration_seconds_bucket{"
	    "node=\"x\",queue=\"q\",name=\"b\",le=\"10\"} 1\n"));
	buf_release(&b);
	tally_release(&t);
}
END_TEST

START_TEST(test_tally_bounded)
{
	struct tally t = TALLY_INIT;
	char name[32];
	int i;

	for (i = 0; i < TALLY_SERIES_MAX * 2; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ck_assert_int_eq(tally_add(&t, "q", name, RO_SUCCEEDED, 1, -1,
		    0), 0);
	}
	ck_assert_uint_le(t.n, TALLY_SERIES_MAX + 1);
	ck_assert_str_eq(t.s[t.n - 1].name, "_other");
	ck_assert_uint_eq(t.s[t.n - 1].n[RO_SUCCEEDED], TALLY_SERIES_MAX);
	tally_release(&t);
}
END_TEST

Suite *
history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("counts");

	tcase_add_test(tc, test_parse_duration);
	tcase_add_test(tc, test_keep_windows);
	tcase_add_test(tc, test_tally_counts_and_deltas);
	tcase_add_test(tc, test_tally_bounded);
	suite_add_tcase(s, tc);
	return s;
}
