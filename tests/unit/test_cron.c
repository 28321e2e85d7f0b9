/* test_cron.c: cron expressions. */
#include <string.h>
#include <time.h>

#include <check.h>

#include "cron.h"
#include "suites.h"

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static time_t
next(const char *spec, time_t t)
{
	struct cron c;
	char err[128];

	ck_assert_msg(cron_parse(spec, &c, err, sizeof(err)) == 0, "%s: %s",
	    spec, err);
	return cron_next(&c, t);
}

START_TEST(test_every_minute_and_seconds)
{
	time_t t = utc(2026, 11, 27, 10, 15, 30);

	ck_assert_int_eq(next("* * * * *", t), utc(2026, 11, 27, 10, 16, 0));
	ck_assert_int_eq(next("*/2 * * * * *", t), utc(2026, 11, 27, 10, 15,
	    32));
	ck_assert_int_eq(next("*/2 * * * * *", t + 1), utc(2026, 11, 27, 10,
	    15, 32));
	ck_assert_int_eq(next("0 * * * * *", t), utc(2026, 11, 27, 10, 16, 0));
	ck_assert_int_eq(next("*/15 * * * *", t), utc(2026, 11, 27, 10, 30, 0));
}
END_TEST

START_TEST(test_fields)
{
	time_t t = utc(2026, 11, 27, 10, 15, 30);	/* a Friday */

	ck_assert_int_eq(next("0 9 * * *", t), utc(2026, 11, 28, 9, 0, 0));
	ck_assert_int_eq(next("30 18 * * mon-fri", t), utc(2026, 11, 27, 18,
	    30, 0));
	ck_assert_int_eq(next("0 0 1 * *", t), utc(2026, 12, 1, 0, 0, 0));
	ck_assert_int_eq(next("0 0 1 jan *", t), utc(2027, 1, 1, 0, 0, 0));
	ck_assert_int_eq(next("0 12 * * sun", t), utc(2026, 11, 29, 12, 0, 0));
	ck_assert_int_eq(next("0 12 * * 7", t), utc(2026, 11, 29, 12, 0, 0));
	ck_assert_int_eq(next("5,10 10 * * *", t), utc(2026, 11, 28, 10, 5, 0));
	ck_assert_int_eq(next("0 0 29 2 *", t), utc(2028, 2, 29, 0, 0, 0));
	/* day of month or weekday, as cron does when both are set */
	ck_assert_int_eq(next("0 0 13 * fri", t), utc(2026, 12, 4, 0, 0, 0));
	ck_assert_int_eq(next("10-20/5 * * * *", t), utc(2026, 11, 27, 10, 20,
	    0));
}
END_TEST

START_TEST(test_never_and_errors)
{
	struct cron c;
	char err[128];
	static const char *const bad[] = { "", "* * * *", "* * * * * * *",
	    "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *",
	    "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *",
	    "a * * * *", "* * * foo *", "1,,2 * * * *", "61 * * * * *" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cron_parse(bad[i], &c, err, sizeof(err)) == -1,
		    "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(cron_parse("0 0 31 2 *", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(cron_next(&c, utc(2026, 1, 1, 0, 0, 0)), -1);
}
END_TEST

START_TEST(test_next_is_a_match)
{
	static const char *const specs[] = { "*/7 3-5 * * *", "0 */3 * * 1",
	    "*/13 * * * * *", "59 23 31 12 *", "0 0 * * 0,6" };
	time_t t = utc(2026, 3, 1, 0, 0, 0), n;
	size_t i;
	int k;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		n = t;
		for (k = 0; k < 50; k++) {
			time_t m = next(specs[i], n);

			ck_assert(m > n);
			/* nothing matches strictly between n and m */
			ck_assert_int_eq(next(specs[i], m - 1), m);
			n = m;
		}
	}
}
END_TEST

Suite *
cron_suite(void)
{
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("cron");

	tcase_add_test(tc, test_every_minute_and_seconds);
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_never_and_errors);
	tcase_add_test(tc, test_next_is_a_match);
	suite_add_tcase(s, tc);
	return s;
}
