/* test_url.c: lib/url.h, amqp://, amqps:// and mysql:// URLs. */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "suites.h"
#include "url.h"

#define ERRSZ	256

/* Parses s, failing the test with the parser's reason when it fails. */
#define PARSE_OK(s, u) do {						\
	char err_[ERRSZ] = "";						\
	ck_assert_msg(url_parse((s), (u), err_, sizeof(err_)) == 0,	\
	    "\"%s\" rejected: %s", (s), err_);				\
} while (0)

/* Checks that s is rejected with a non-empty reason. */
static void
parse_bad(const char *s)
{
	struct url u;
	char err[ERRSZ] = "";

	ck_assert_msg(url_parse(s, &u, err, sizeof(err)) == -1,
	    "\"%s\" accepted (host \"%s\", port %d, path \"%s\")", s, u.host,
	    u.port, u.path);
	ck_assert_msg(err[0] != '\0', "\"%s\" rejected without a reason", s);
}

START_TEST(test_full_amqp)
{
	struct url u;

	PARSE_OK("amqp://user:pass@host:5672/vhost", &u);
	ck_assert_int_eq(u.scheme, URL_AMQP);
	ck_assert_str_eq(u.user, "user");
	ck_assert_str_eq(u.pass, "pass");
	ck_assert_str_eq(u.host, "host");
	ck_assert_int_eq(u.port, 5672);
	ck_assert_str_eq(u.path, "vhost");

	PARSE_OK("amqps://bob:pw@rabbit.example.com:15671/prod", &u);
	ck_assert_int_eq(u.scheme, URL_AMQPS);
	ck_assert_str_eq(u.user, "bob");
	ck_assert_str_eq(u.pass, "pw");
	ck_assert_str_eq(u.host, "rabbit.example.com");
	ck_assert_int_eq(u.port, 15671);
	ck_assert_str_eq(u.path, "prod");

	PARSE_OK("mysql://tq:secret@db.local:3307/tqdb", &u);
	ck_assert_int_eq(u.scheme, URL_MYSQL);
	ck_assert_str_eq(u.user, "tq");
	ck_assert_str_eq(u.pass, "secret");
	ck_assert_str_eq(u.host, "db.local");
	ck_assert_int_eq(u.port, 3307);
	ck_assert_str_eq(u.path, "tqdb");
}
END_TEST

START_TEST(test_default_ports)
{
	struct url u;

	PARSE_OK("amqp://host/v", &u);
	ck_assert_int_eq(u.port, 5672);
	PARSE_OK("amqp://host", &u);
	ck_assert_int_eq(u.port, 5672);
	PARSE_OK("amqps://host/v", &u);
	ck_assert_int_eq(u.scheme, URL_AMQPS);
	ck_assert_int_eq(u.port, 5671);
	PARSE_OK("mysql://tq@host/tq", &u);
	ck_assert_int_eq(u.port, 3306);
	PARSE_OK("mysql://host/tq", &u);
	ck_assert_int_eq(u.port, 3306);
	/* The limits themselves. */
	PARSE_OK("amqp://host:1/v", &u);
	ck_assert_int_eq(u.port, 1);
	PARSE_OK("amqp://host:65535/v", &u);
	ck_assert_int_eq(u.port, 65535);
}
END_TEST

START_TEST(test_vhost)
{
	struct url u;

	PARSE_OK("amqp://host/%2f", &u);
	ck_assert_str_eq(u.path, "/");
	PARSE_OK("amqp://host:5672/%2F", &u);
	ck_assert_str_eq(u.path, "/");
	PARSE_OK("amqp://host/", &u);
	ck_assert_str_eq(u.path, "/");
	PARSE_OK("amqp://host", &u);
	ck_assert_str_eq(u.path, "/");
	PARSE_OK("amqps://host:5671", &u);
	ck_assert_str_eq(u.path, "/");
	PARSE_OK("amqp://host/a%2fb%20c", &u);
	ck_assert_str_eq(u.path, "a/b c");
}
END_TEST

START_TEST(test_guest_default)
{
	struct url u;

	PARSE_OK("amqp://host/v", &u);
	ck_assert_str_eq(u.user, "guest");
	ck_assert_str_eq(u.pass, "guest");
	PARSE_OK("amqps://host:5671/", &u);
	ck_assert_str_eq(u.user, "guest");
	ck_assert_str_eq(u.pass, "guest");
	/* A user without a password keeps its (empty) password. */
	PARSE_OK("amqp://bob@host/v", &u);
	ck_assert_str_eq(u.user, "bob");
	ck_assert_str_eq(u.pass, "");
	/* MySQL has no guest account. */
	PARSE_OK("mysql://host/db", &u);
	ck_assert_str_eq(u.user, "");
	ck_assert_str_eq(u.pass, "");
	PARSE_OK("mysql://tq@host/db", &u);
	ck_assert_str_eq(u.user, "tq");
	ck_assert_str_eq(u.pass, "");
}
END_TEST

START_TEST(test_mysql_needs_database)
{
	struct url u;
	char err[ERRSZ] = "";

	ck_assert_int_eq(url_parse("mysql://tq:pw@host:3306", &u, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "database") != NULL, "err: %s", err);
	parse_bad("mysql://tq:pw@host:3306/");
	parse_bad("mysql://host");
	parse_bad("mysql://host/");
}
END_TEST

START_TEST(test_percent_password)
{
	struct url u;

	PARSE_OK("amqp://user:p%40ss%3Aw@host:5672/v", &u);
	ck_assert_str_eq(u.user, "user");
	ck_assert_str_eq(u.pass, "p@ss:w");
	ck_assert_str_eq(u.host, "host");
	ck_assert_int_eq(u.port, 5672);
	PARSE_OK("amqp://us%3Aer:%2F%25@host/v", &u);
	ck_assert_str_eq(u.user, "us:er");
	ck_assert_str_eq(u.pass, "/%");
	ck_assert_str_eq(u.host, "host");
}
END_TEST

START_TEST(test_at_in_password)
{
	struct url u;

	PARSE_OK("amqp://user:p@ss@host:5673/v", &u);
	ck_assert_str_eq(u.user, "user");
	ck_assert_str_eq(u.pass, "p@ss");
	ck_assert_str_eq(u.host, "host");
	ck_assert_int_eq(u.port, 5673);
	ck_assert_str_eq(u.path, "v");
	/* ':' after the first one belongs to the password. */
	PARSE_OK("mysql://tq:a:b@c@db:3306/tq", &u);
	ck_assert_str_eq(u.user, "tq");
	ck_assert_str_eq(u.pass, "a:b@c");
	ck_assert_str_eq(u.host, "db");
	/* An '@' in the path does not end the credentials. */
	PARSE_OK("amqp://u:p@host/v@x", &u);
	ck_assert_str_eq(u.pass, "p");
	ck_assert_str_eq(u.host, "host");
	ck_assert_str_eq(u.path, "v@x");
}
END_TEST

START_TEST(test_ipv6)
{
	struct url u;

	PARSE_OK("amqp://[::1]:5672/v", &u);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 5672);
	ck_assert_str_eq(u.path, "v");
	PARSE_OK("amqp://u:p@[fe80::1:2]:5999/%2f", &u);
	ck_assert_str_eq(u.user, "u");
	ck_assert_str_eq(u.pass, "p");
	ck_assert_str_eq(u.host, "fe80::1:2");
	ck_assert_int_eq(u.port, 5999);
	ck_assert_str_eq(u.path, "/");
	PARSE_OK("mysql://tq@[::1]/tq", &u);
	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 3306);
	parse_bad("amqp://[::1/v");
	parse_bad("amqp://[]:5672/v");
	parse_bad("amqp://[::1]x/v");
	parse_bad("amqp://[::1]:/v");
	parse_bad("amqp://[::1]:0/v");
}
END_TEST

START_TEST(test_bad_port)
{
	parse_bad("amqp://host:0/v");
	parse_bad("amqp://host:65536/v");
	parse_bad("amqp://host:abc/v");
	parse_bad("amqp://host:/v");
	parse_bad("amqp://host:");
	parse_bad("amqp://host:-1/v");
	parse_bad("amqp://host:99999999999/v");
	parse_bad("amqp://host:5672x/v");
	parse_bad("amqp://host:5672:1/v");
	parse_bad("mysql://tq@host:0/tq");
	parse_bad("mysql://tq@host:70000/tq");
}
END_TEST

START_TEST(test_bad_port_reason)
{
	struct url u;
	char err[ERRSZ] = "";

	ck_assert_int_eq(url_parse("amqp://host:65536/v", &u, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "port") != NULL, "err: %s", err);
	ck_assert_int_eq(url_parse("amqp://host:0/v", &u, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "port") != NULL, "err: %s", err);
}
END_TEST

START_TEST(test_unknown_scheme)
{
	struct url u;
	char err[ERRSZ] = "";

	ck_assert_int_eq(url_parse("http://host/v", &u, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "scheme") != NULL, "err: %s", err);
	parse_bad("");
	parse_bad("host:5672");
	parse_bad("amqp:/host/v");
	parse_bad("amqp:host");
	parse_bad("amqpx://host/v");
	parse_bad("mysqls://host/db");
	parse_bad("redis://host/0");
	parse_bad(" amqp://host/v");
}
END_TEST

START_TEST(test_bad_host)
{
	parse_bad("amqp://");
	parse_bad("amqp:///v");
	parse_bad("amqp://u:p@/v");
	parse_bad("amqp://u:p@:5672/v");
	parse_bad("amqp://ho st/v");
	parse_bad("amqp://ho%41st/v");
}
END_TEST

START_TEST(test_bad_escape)
{
	parse_bad("amqp://u:%zz@host/v");
	parse_bad("amqp://u:p%4@host/v");		/* at the end of pass */
	parse_bad("amqp://u:p%@host/v");
	parse_bad("amqp://u%g1:p@host/v");
	parse_bad("amqp://u:p@host/v%zz");
	parse_bad("amqp://u:p@host/v%4");		/* at the end of the URL */
	parse_bad("amqp://u:p@host/v%");
	parse_bad("amqp://u:p%00x@host/v");	/* NUL */
	parse_bad("amqp://u%00:p@host/v");
	parse_bad("amqp://u:p@host/v%00");
	parse_bad("mysql://tq@host/t%00q");
}
END_TEST

START_TEST(test_escape_at_end_ok)
{
	struct url u;

	/* A complete escape as the very last characters is fine. */
	PARSE_OK("amqp://u:p%41@host/v%41", &u);
	ck_assert_str_eq(u.pass, "pA");
	ck_assert_str_eq(u.path, "vA");
}
END_TEST

START_TEST(test_query_rejected)
{
	struct url u;
	char err[ERRSZ] = "";

	ck_assert_int_eq(url_parse("amqp://u:p@host:5672/v?heartbeat=10", &u,
	    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "query") != NULL, "err: %s", err);
	parse_bad("amqp://u:p@host/?x=1");
	parse_bad("amqp://u:p@host/v#frag");
	parse_bad("mysql://tq@host/tq?ssl=1");
	parse_bad("amqp://host?x=1");
	parse_bad("amqp://host:5672?x=1");
}
END_TEST

START_TEST(test_too_long)
{
	char s[1300], big[400];
	struct url u;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(s, sizeof(s), "amqp://%s:p@host/v", big);
	parse_bad(s);
	snprintf(s, sizeof(s), "amqp://u:%s@host/v", big);
	parse_bad(s);
	snprintf(s, sizeof(s), "amqp://u:p@%s/v", big);
	parse_bad(s);
	snprintf(s, sizeof(s), "amqp://u:p@host/%s", big);
	parse_bad(s);
	/* The largest that fit. */
	big[127] = '\0';
	snprintf(s, sizeof(s), "amqp://%s:p@host/v", big);
	PARSE_OK(s, &u);
	ck_assert_uint_eq(strlen(u.user), 127);
	big[127] = 'a';
	big[255] = '\0';
	snprintf(s, sizeof(s), "amqp://u:%s@%s/%s", big, big, big);
	PARSE_OK(s, &u);
	ck_assert_uint_eq(strlen(u.pass), 255);
	ck_assert_uint_eq(strlen(u.host), 255);
	ck_assert_uint_eq(strlen(u.path), 255);
}
END_TEST

START_TEST(test_redact_hides_password)
{
	static const struct {
		const char *url, *pass;
	} cases[] = {
		{ "amqp://user:Sup3rSecr3t@host:5672/vhost", "Sup3rSecr3t" },
		{ "amqps://user:Sup3rSecr3t@host/vhost", "Sup3rSecr3t" },
		{ "mysql://tq:Sup3rSecr3t@db:3306/tq", "Sup3rSecr3t" },
		{ "amqp://user:p%40ss%3Aw0rd@host/%2f", "p@ss:w0rd" },
		{ "amqp://user:p@ss@w0rd@host/%2f", "p@ss@w0rd" },
		{ "amqp://user:Zq9xW@[::1]:5672/v", "Zq9xW" },
	};
	struct url u;
	char out[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		PARSE_OK(cases[i].url, &u);
		ck_assert_str_eq(u.pass, cases[i].pass);
		memset(out, 0, sizeof(out));
		url_redact(&u, out, sizeof(out));
		ck_assert_msg(strstr(out, cases[i].pass) == NULL,
		    "password in \"%s\"", out);
		ck_assert_msg(strstr(out, "***") != NULL, "no *** in \"%s\"",
		    out);
		ck_assert_msg(strstr(out, u.host) != NULL, "no host in \"%s\"",
		    out);
	}
}
END_TEST

START_TEST(test_redact_exact)
{
	struct url u;
	char out[1024];

	PARSE_OK("amqp://user:pass@host:5672/vhost", &u);
	url_redact(&u, out, sizeof(out));
	ck_assert_str_eq(out, "amqp://user:***@host:5672/vhost");
	PARSE_OK("amqps://host", &u);
	url_redact(&u, out, sizeof(out));
	ck_assert_str_eq(out, "amqps://guest:***@host:5671/%2f");
	PARSE_OK("mysql://tq:pw@[::1]/tq", &u);
	url_redact(&u, out, sizeof(out));
	ck_assert_str_eq(out, "mysql://tq:***@[::1]:3306/tq");
	/* No password, nothing to hide. */
	PARSE_OK("mysql://tq@db/tq", &u);
	url_redact(&u, out, sizeof(out));
	ck_assert_str_eq(out, "mysql://tq@db:3306/tq");
	ck_assert(strstr(out, "***") == NULL);
	PARSE_OK("mysql://db/tq", &u);
	url_redact(&u, out, sizeof(out));
	ck_assert_str_eq(out, "mysql://db:3306/tq");
}
END_TEST

START_TEST(test_redact_truncates)
{
	struct url u;
	char out[16];

	PARSE_OK("amqp://user:Sup3rSecr3t@a-rather-long-host-name/v", &u);
	memset(out, 'x', sizeof(out));
	url_redact(&u, out, sizeof(out));
	ck_assert_uint_eq(strlen(out), sizeof(out) - 1);
	ck_assert(strstr(out, "Sup3r") == NULL);
}
END_TEST

/*
 * A password with an empty user name ("mysql://:pw@host/db" is a valid URL
 * and parses) must still give a well-formed URL: "mysql://:***@db:3306/tq".
 * url_redact prints the '@' only when the user is not empty, so the result
 * is "mysql://:***db:3306/tq", which reads as host "***db".
 */
START_TEST(test_redact_empty_user_with_password)
{
	struct url u, v;
	char out[1024];

	PARSE_OK("mysql://:Sup3rSecr3t@db/tq", &u);
	ck_assert_str_eq(u.user, "");
	ck_assert_str_eq(u.pass, "Sup3rSecr3t");
	url_redact(&u, out, sizeof(out));
	ck_assert(strstr(out, "Sup3rSecr3t") == NULL);
	ck_assert_str_eq(out, "mysql://:***@db:3306/tq");
	PARSE_OK(out, &v);
	ck_assert_str_eq(v.host, "db");
}
END_TEST

START_TEST(test_clear)
{
	struct url u;
	size_t i;

	PARSE_OK("amqp://user:Sup3rSecr3t@host:5673/vhost", &u);
	url_clear(&u);
	for (i = 0; i < sizeof(u.pass); i++)
		ck_assert_msg(u.pass[i] == '\0', "pass[%zu] = %#x", i,
		    (unsigned char)u.pass[i]);
	/* Only the password goes. */
	ck_assert_str_eq(u.user, "user");
	ck_assert_str_eq(u.host, "host");
	ck_assert_int_eq(u.port, 5673);
	ck_assert_str_eq(u.path, "vhost");
}
END_TEST

START_TEST(test_has_password)
{
	ck_assert_int_eq(url_has_password("amqp://u:p@h/"), 1);
	ck_assert_int_eq(url_has_password("mysql://u:p%40x@h:1/db"), 1);
	ck_assert_int_eq(url_has_password("amqp://h,amqp://u:p@h2"), 1);
	ck_assert_int_eq(url_has_password("amqp://u@h/%2f"), 0);
	ck_assert_int_eq(url_has_password("amqp://h:5672/"), 0);
	ck_assert_int_eq(url_has_password("amqp://[::1]:5672/"), 0);
	ck_assert_int_eq(url_has_password("amqp://u@h/a:b@c"), 0);
	ck_assert_int_eq(url_has_password("amqp://u@h,amqp://v@h2:1"), 0);
	ck_assert_int_eq(url_has_password(""), 0);
}
END_TEST

Suite *
url_suite(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("parse");
	TCase *tr = tcase_create("redact");

	tcase_add_test(tc, test_full_amqp);
	tcase_add_test(tc, test_default_ports);
	tcase_add_test(tc, test_vhost);
	tcase_add_test(tc, test_guest_default);
	tcase_add_test(tc, test_mysql_needs_database);
	tcase_add_test(tc, test_percent_password);
	tcase_add_test(tc, test_at_in_password);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_bad_port);
	tcase_add_test(tc, test_bad_port_reason);
	tcase_add_test(tc, test_unknown_scheme);
	tcase_add_test(tc, test_bad_host);
	tcase_add_test(tc, test_bad_escape);
	tcase_add_test(tc, test_escape_at_end_ok);
	tcase_add_test(tc, test_query_rejected);
	tcase_add_test(tc, test_too_long);
	suite_add_tcase(s, tc);
	tcase_add_test(tr, test_redact_hides_password);
	tcase_add_test(tr, test_redact_exact);
	tcase_add_test(tr, test_redact_truncates);
	tcase_add_test(tr, test_redact_empty_user_with_password);
	tcase_add_test(tr, test_clear);
	tcase_add_test(tr, test_has_password);
	suite_add_tcase(s, tr);
	return s;
}
