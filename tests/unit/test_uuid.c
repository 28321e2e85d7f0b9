/* test_uuid.c: lib/uuid.h, UUIDv7 ids (RFC 9562). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "suites.h"
#include "uuid.h"

#define NIDS	10000

static int64_t
epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
cmp_qsort(const void *a, const void *b)
{
	return uuid_cmp(a, b);
}

START_TEST(test_version_variant)
{
	struct uuid u;
	int i;

	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(uuid_v7(&u), 0);
		ck_assert_msg((u.b[6] >> 4) == 7, "version nibble is %x",
		    u.b[6] >> 4);
		ck_assert_msg((u.b[8] & 0xc0) == 0x80, "variant bits are %x",
		    u.b[8] >> 6);
	}
}
END_TEST

START_TEST(test_fmt_shape)
{
	char s[UUID_STRLEN + 1];
	struct uuid u;
	size_t i;

	ck_assert_int_eq(uuid_v7(&u), 0);
	memset(s, 'x', sizeof(s));
	uuid_fmt(&u, s);
	ck_assert_uint_eq(strlen(s), UUID_STRLEN);
	for (i = 0; i < UUID_STRLEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ck_assert_msg(s[i] == '-', "no dash at %zu: %s", i, s);
		else
			ck_assert_msg((s[i] >= '0' && s[i] <= '9') ||
			    (s[i] >= 'a' && s[i] <= 'f'),
			    "not lowercase hex at %zu: %s", i, s);
	}
	ck_assert_msg(s[14] == '7', "version digit: %s", s);
	ck_assert_msg(strchr("89ab", s[19]) != NULL, "variant digit: %s", s);
}
END_TEST

START_TEST(test_fmt_known)
{
	struct uuid u;
	char s[UUID_STRLEN + 1];
	int i;

	for (i = 0; i < UUID_LEN; i++)
		u.b[i] = (uint8_t)(i * 17);	/* 00 11 22 ... ff */
	uuid_fmt(&u, s);
	ck_assert_str_eq(s, "00112233-4455-6677-8899-aabbccddeeff");
}
END_TEST

START_TEST(test_roundtrip)
{
	struct uuid u, v;
	char s[UUID_STRLEN + 1], t[UUID_STRLEN + 1];
	int i;

	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(uuid_v7(&u), 0);
		uuid_fmt(&u, s);
		memset(&v, 0xa5, sizeof(v));
		ck_assert_int_eq(uuid_parse(s, &v), 0);
		ck_assert_int_eq(uuid_cmp(&u, &v), 0);
		ck_assert(memcmp(u.b, v.b, UUID_LEN) == 0);
		uuid_fmt(&v, t);
		ck_assert_str_eq(s, t);
	}
}
END_TEST

/* RFC 9562 appendix A.6 test vector. */
START_TEST(test_rfc_vector)
{
	static const uint8_t want[UUID_LEN] = {
		0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0, 0x7c, 0xc3,
		0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f,
	};
	struct uuid u;
	char s[UUID_STRLEN + 1];

	ck_assert_int_eq(uuid_parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
	    &u), 0);
	ck_assert(memcmp(u.b, want, UUID_LEN) == 0);
	/* Tuesday, February 22, 2022 2:22:22.00 PM GMT-05:00 */
	ck_assert_int_eq(uuid_v7_ms(&u), 1645557742000LL);
	uuid_fmt(&u, s);
	ck_assert_str_eq(s, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
}
END_TEST

START_TEST(test_parse_uppercase)
{
	struct uuid u, v;

	ck_assert_int_eq(uuid_parse("017F22E2-79B0-7CC3-98C4-DC0C0C07398F",
	    &u), 0);
	ck_assert_int_eq(uuid_parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
	    &v), 0);
	ck_assert_int_eq(uuid_cmp(&u, &v), 0);
	ck_assert_int_eq(uuid_parse("017f22E2-79b0-7CC3-98c4-Dc0C0c07398F",
	    &v), 0);
	ck_assert_int_eq(uuid_cmp(&u, &v), 0);
}
END_TEST

START_TEST(test_parse_rejects)
{
	static const char *const bad[] = {
		"",
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398",	/* 35 */
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398f0",	/* 37 */
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398f ",
		" 017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
		"017f22e279b07cc398c4dc0c0c07398f",	/* no dashes */
		"017f22e279b07cc398c4dc0c0c07398f----",	/* dashes at the end */
		"017f22e-279b0-7cc3-98c4-dc0c0c07398f",	/* first dash early */
		"017f22e27-9b0-7cc3-98c4-dc0c0c07398f",	/* first dash late */
		"017f22e2-79b07-cc3-98c4-dc0c0c07398f",
		"017f22e2-79b0-7cc39-8c4-dc0c0c07398f",
		"017f22e2-79b0-7cc3-98c4d-c0c0c07398f",
		"017f22e2_79b0_7cc3_98c4_dc0c0c07398f",
		"017f22g2-79b0-7cc3-98c4-dc0c0c07398f",	/* g */
		"017f22e2-79b0-7cc3-98c4-dc0c0c07398z",	/* z, last */
		"x17f22e2-79b0-7cc3-98c4-dc0c0c07398f",	/* x, first */
		"017f22e2-79b0-7cc3-98c4-dc0c0c0739 f",
		"017f22e2-79b0-7cc3-98c4--c0c0c07398f",	/* dash as hex */
		"+17f22e2-79b0-7cc3-98c4-dc0c0c07398f",
		"{17f22e2-79b0-7cc3-98c4-dc0c0c07398}",
	};
	struct uuid u;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(uuid_parse(bad[i], &u) == -1,
		    "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_parse_embedded_nul)
{
	char s[UUID_STRLEN + 1] = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f";
	struct uuid u;

	s[20] = '\0';
	ck_assert_int_eq(uuid_parse(s, &u), -1);
}
END_TEST

START_TEST(test_cmp_is_memcmp_order)
{
	struct uuid a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(uuid_cmp(&a, &b), 0);
	b.b[15] = 1;
	ck_assert_int_lt(uuid_cmp(&a, &b), 0);
	ck_assert_int_gt(uuid_cmp(&b, &a), 0);
	/* An earlier byte decides, whatever follows. */
	a.b[0] = 1;
	b.b[0] = 0;
	memset(b.b + 1, 0xff, UUID_LEN - 1);
	ck_assert_int_gt(uuid_cmp(&a, &b), 0);
	ck_assert_int_lt(uuid_cmp(&b, &a), 0);
	/* Unsigned bytes: 0x80 sorts after 0x7f. */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.b[3] = 0x80;
	b.b[3] = 0x7f;
	ck_assert_int_gt(uuid_cmp(&a, &b), 0);
}
END_TEST

START_TEST(test_monotonic_unique)
{
	struct uuid *ids;
	char s[UUID_STRLEN + 1], t[UUID_STRLEN + 1];
	size_t i;
	int bad = -1;

	ids = calloc(NIDS, sizeof(*ids));
	ck_assert_ptr_nonnull(ids);
	for (i = 0; i < NIDS; i++)
		if (uuid_v7(&ids[i]) != 0 && bad == -1)
			bad = (int)i;
	if (bad != -1) {
		free(ids);
		ck_abort_msg("uuid_v7 failed at %d", bad);
	}
	for (i = 1; i < NIDS; i++)
		if (uuid_cmp(&ids[i - 1], &ids[i]) >= 0) {
			uuid_fmt(&ids[i - 1], s);
			uuid_fmt(&ids[i], t);
			free(ids);
			ck_abort_msg("id %zu %s is not after %s", i, t, s);
		}
	/* Unique, checked independently of the order above. */
	qsort(ids, NIDS, sizeof(*ids), cmp_qsort);
	for (i = 1; i < NIDS; i++)
		if (uuid_cmp(&ids[i - 1], &ids[i]) == 0) {
			uuid_fmt(&ids[i], s);
			free(ids);
			ck_abort_msg("duplicate id %s", s);
		}
	free(ids);
}
END_TEST

START_TEST(test_ms_near_wall_clock)
{
	struct uuid u;
	int64_t before, after, ms;
	int i;

	for (i = 0; i < 100; i++) {
		before = epoch_ms();
		ck_assert_int_eq(uuid_v7(&u), 0);
		after = epoch_ms();
		ms = uuid_v7_ms(&u);
		ck_assert_msg(ms >= before - 5000 && ms <= after + 5000,
		    "uuid ms %lld, wall clock %lld..%lld", (long long)ms,
		    (long long)before, (long long)after);
	}
}
END_TEST

START_TEST(test_ms_field)
{
	struct uuid u;

	memset(&u, 0xff, sizeof(u));
	ck_assert_int_eq(uuid_v7_ms(&u), 0xffffffffffffLL);
	memset(&u, 0, sizeof(u));
	ck_assert_int_eq(uuid_v7_ms(&u), 0);
	u.b[5] = 1;
	u.b[6] = 0xff;	/* not part of the timestamp */
	ck_assert_int_eq(uuid_v7_ms(&u), 1);
	u.b[0] = 1;
	ck_assert_int_eq(uuid_v7_ms(&u), (1LL << 40) + 1);
}
END_TEST

Suite *
uuid_suite(void)
{
	Suite *s = suite_create("uuid");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_version_variant);
	tcase_add_test(tc, test_fmt_shape);
	tcase_add_test(tc, test_fmt_known);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_rfc_vector);
	tcase_add_test(tc, test_parse_uppercase);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_parse_embedded_nul);
	tcase_add_test(tc, test_cmp_is_memcmp_order);
	tcase_add_test(tc, test_monotonic_unique);
	tcase_add_test(tc, test_ms_near_wall_clock);
	tcase_add_test(tc, test_ms_field);
	suite_add_tcase(s, tc);
	return s;
}
