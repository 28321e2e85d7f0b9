/* test_policy.c: restart backoff and intensity/period. */
#include <check.h>

#include "policy.h"
#include "suites.h"

START_TEST(test_first_restart_is_immediate)
{
	ck_assert_int_eq(restart_delay(0, 5000), 0);
}
END_TEST

START_TEST(test_delay_grows_and_caps)
{
	int64_t d;
	unsigned q;
	int i;

	for (i = 0; i < 200; i++) {
		d = restart_delay(1, 5000);
		ck_assert(d > 75 - 1 && d <= 100);	/* 100 ms, -25 % jitter */
		d = restart_delay(3, 5000);
		ck_assert(d >= 300 && d <= 400);
		d = restart_delay(30, 5000);
		ck_assert(d >= 3750 && d <= 5000);
	}
	/* monotone in expectation: the top of each range grows */
	for (q = 1; q < 8; q++)
		ck_assert(restart_delay(q + 1, 1 << 20) * 4 / 3 + 1 >=
		    restart_delay(q, 1 << 20));
}
END_TEST

START_TEST(test_intensity)
{
	struct intensity in;
	int i;

	intensity_reset(&in);
	/* 5 restarts allowed in 10 s: the 6th within the period trips it */
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(intensity_add(&in, 1000 + i * 100, 5, 10000),
		    0);
	ck_assert_int_eq(intensity_add(&in, 1600, 5, 10000), 1);
	ck_assert_uint_eq(intensity_count(&in, 1600, 10000), 6);
	/* long after, the old ones fall out of the window */
	ck_assert_uint_eq(intensity_count(&in, 20000, 10000), 0);
	ck_assert_int_eq(intensity_add(&in, 20000, 5, 10000), 0);
}
END_TEST

START_TEST(test_intensity_spread_out)
{
	struct intensity in;
	int i;

	intensity_reset(&in);
	/* one restart every 3 s never exceeds 5 in 10 s */
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(intensity_add(&in, (int64_t)i * 3000, 5,
		    10000), 0);
	/* the ring wraps without losing count of recent ones */
	intensity_reset(&in);
	for (i = 0; i < 600; i++)
		(void)intensity_add(&in, 1000000 + i, 1000, 10000);
	ck_assert_uint_eq(intensity_count(&in, 1000600, 10000), RESTART_LOG);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("restart");

	tcase_add_test(tc, test_first_restart_is_immediate);
	tcase_add_test(tc, test_delay_grows_and_caps);
	tcase_add_test(tc, test_intensity);
	tcase_add_test(tc, test_intensity_spread_out);
	suite_add_tcase(s, tc);
	return s;
}
