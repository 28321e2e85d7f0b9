/* test_config.c: lib/config.h, defaults, config_set, INI file, environment
 * and config_urls. */
/* _GNU_SOURCE comes from the Makefile (nftw flags). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "config.h"
#include "suites.h"
#include "util.h"

/*
 * Each test gets its own directory (mkdtemp) inside a root directory made
 * once per test case; the root is removed in the parent process after the
 * test case, so nothing is left behind even when a forked test fails before
 * its teardown.
 */
static char root[512];
static char dir[600];

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

static void
rm_tree(const char *path)
{
	if (path[0] != '\0')
		(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
unset_env(void)
{
	const struct config_key *k;

	for (k = config_keys; k->name; k++)
		if (k->env != NULL)
			unsetenv(k->env);
}

static void
root_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/tq-unit-config-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void
root_teardown(void)
{
	rm_tree(root);
	root[0] = '\0';
}

static void
setup(void)
{
	/* The environment of whoever runs the tests must not leak in. */
	unset_env();
	snprintf(dir, sizeof(dir), "%s/t-XXXXXX", root);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	unset_env();
	rm_tree(dir);
	dir[0] = '\0';
}

/* Writes name in the test's directory with mode; returns its path in a
 * static buffer (one per call site is enough: callers copy when needed). */
static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[700];
	size_t n = strlen(text);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_msg(fd != -1, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	/* fchmod, so the umask does not matter */
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

#define ERR_HAS(err, s)	\
	ck_assert_msg(strstr((err), (s)) != NULL, "\"%s\" not in: %s", (s), (err))

START_TEST(test_defaults)
{
	struct config c;

	memset(&c, 0x5a, sizeof(c));
	config_defaults(&c);
	ck_assert_int_eq(c.prefetch, 32);
	ck_assert_str_eq(c.queue, "default");
	ck_assert_str_eq(c.queue_type, "classic");
	ck_assert_str_eq(c.log_level, "info");
	ck_assert_int_eq(c.payload_max, 1048576);
	ck_assert_int_eq(c.max_attempts, 3);
	ck_assert_int_eq(c.backoff_base_ms, 1000);
	ck_assert_int_eq(c.backoff_cap_ms, 300000);
	ck_assert_str_eq(c.amqp_password_file, "");
	ck_assert_str_eq(c.mysql_password_file, "");
	ck_assert(strncmp(c.amqp_url, "amqp://", 7) == 0);
	ck_assert(strncmp(c.mysql_url, "mysql://", 8) == 0);
}
END_TEST

/* Every default is within its own bounds and the table is consistent. */
START_TEST(test_table)
{
	const struct config_key *k, *j;
	struct config c;
	char err[TQ_ERRSZ];

	for (k = config_keys; k->name; k++) {
		ck_assert_ptr_nonnull(k->def);
		ck_assert_ptr_nonnull(k->help);
		ck_assert_msg(config_set(&c, k->name, k->def, err,
		    sizeof(err)) == 0, "default of %s: %s", k->name, err);
		ck_assert_msg(k->off + k->size <= sizeof(struct config),
		    "%s outside struct config", k->name);
		for (j = config_keys; j != k; j++) {
			ck_assert_str_ne(j->name, k->name);
			if (j->env != NULL && k->env != NULL)
				ck_assert_str_ne(j->env, k->env);
		}
	}
	/* The defaults pass config_load's own checks. */
	ck_assert_msg(config_load(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	config_defaults(&c);
	{
		struct url a, m;

		ck_assert_msg(config_urls(&c, &a, &m, err, sizeof(err)) == 0,
		    "%s", err);
		url_clear(&a);
		url_clear(&m);
	}
}
END_TEST

START_TEST(test_set)
{
	struct config c;
	char err[TQ_ERRSZ];

	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "prefetch", "7", err, sizeof(err)), 0);
	ck_assert_int_eq(c.prefetch, 7);
	ck_assert_int_eq(config_set(&c, "prefetch", "1", err, sizeof(err)), 0);
	ck_assert_int_eq(c.prefetch, 1);
	ck_assert_int_eq(config_set(&c, "prefetch", "1000", err, sizeof(err)),
	    0);
	ck_assert_int_eq(c.prefetch, 1000);
	ck_assert_int_eq(config_set(&c, "queue", "jobs", err, sizeof(err)), 0);
	ck_assert_str_eq(c.queue, "jobs");
	ck_assert_int_eq(config_set(&c, "amqp_url", "amqp://h/v", err,
	    sizeof(err)), 0);
	ck_assert_str_eq(c.amqp_url, "amqp://h/v");
	ck_assert_int_eq(config_set(&c, "heartbeat_s", "0", err, sizeof(err)),
	    0);
	ck_assert_int_eq(c.heartbeat_s, 0);
}
END_TEST

START_TEST(test_set_unknown_key)
{
	struct config c;
	char err[TQ_ERRSZ] = "";

	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "no_such_key", "1", err, sizeof(err)),
	    -1);
	ERR_HAS(err, "no_such_key");
	/* Keys are exact: no case folding, no env names. */
	ck_assert_int_eq(config_set(&c, "Prefetch", "1", err, sizeof(err)), -1);
	ERR_HAS(err, "Prefetch");
	ck_assert_int_eq(config_set(&c, "TQ_PREFETCH", "1", err, sizeof(err)),
	    -1);
	ck_assert_int_eq(config_set(&c, "", "1", err, sizeof(err)), -1);
	ck_assert_int_eq(c.prefetch, 32);
}
END_TEST

START_TEST(test_set_bounds)
{
	struct config c;
	char err[TQ_ERRSZ];

	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "prefetch", "1001", err, sizeof(err)),
	    -1);
	ERR_HAS(err, "too large");
	ERR_HAS(err, "prefetch");
	ck_assert_int_eq(config_set(&c, "prefetch", "0", err, sizeof(err)), -1);
	ERR_HAS(err, "too small");
	ck_assert_int_eq(config_set(&c, "prefetch", "-5", err, sizeof(err)),
	    -1);
	ERR_HAS(err, "too small");
	ck_assert_int_eq(config_set(&c, "payload_max", "8388609", err,
	    sizeof(err)), -1);
	ERR_HAS(err, "too large");
	ck_assert_int_eq(config_set(&c, "prefetch",
	    "99999999999999999999999", err, sizeof(err)), -1);
	ck_assert_int_eq(config_set(&c, "lease_ms", "499", err, sizeof(err)),
	    -1);
	ERR_HAS(err, "too small");
	/* Failures leave the value alone. */
	ck_assert_int_eq(c.prefetch, 32);
	ck_assert_int_eq(c.payload_max, 1048576);
	ck_assert_int_eq(c.lease_ms, 30000);
}
END_TEST

START_TEST(test_set_not_a_number)
{
	static const char *const bad[] = { "abc", "", "12abc", "1.5", "0x10",
	    "7 7" };
	struct config c;
	char err[TQ_ERRSZ];
	size_t i;

	config_defaults(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(config_set(&c, "prefetch", bad[i], err,
		    sizeof(err)) == -1, "prefetch \"%s\" accepted", bad[i]);
		ERR_HAS(err, "prefetch");
	}
	ck_assert_int_eq(c.prefetch, 32);
}
END_TEST

START_TEST(test_set_string_too_long)
{
	struct config c;
	char err[TQ_ERRSZ], v[200];

	config_defaults(&c);
	memset(v, 'q', sizeof(v));
	v[sizeof(c.queue)] = '\0';		/* 65 bytes: one too many */
	ck_assert_int_eq(config_set(&c, "queue", v, err, sizeof(err)), -1);
	ERR_HAS(err, "queue");
	ck_assert_str_eq(c.queue, "default");
	v[sizeof(c.queue) - 1] = '\0';		/* 64 bytes */
	ck_assert_int_eq(config_set(&c, "queue", v, err, sizeof(err)), 0);
	ck_assert_str_eq(c.queue, v);
}
END_TEST

START_TEST(test_load_file)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	path = write_file("tq.ini",
	    "; a comment\n"
	    "# another\n"
	    "[tq]\n"
	    "prefetch = 7\n"
	    "queue=jobs\n"
	    "queue_type = quorum\n"
	    "batch   =   5  \n"
	    "amqp_url = amqp://u:p@rabbit:5673/%2f\n"
	    "\n"
	    "backoff_base_ms = 10\n"
	    "backoff_cap_ms = 10\n", 0644);
	ck_assert_msg(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.prefetch, 7);
	ck_assert_str_eq(c.queue, "jobs");
	ck_assert_str_eq(c.queue_type, "quorum");
	ck_assert_int_eq(c.batch, 5);
	ck_assert_str_eq(c.amqp_url, "amqp://u:p@rabbit:5673/%2f");
	ck_assert_int_eq(c.backoff_base_ms, 10);
	ck_assert_int_eq(c.backoff_cap_ms, 10);
	/* the rest keeps its default */
	ck_assert_int_eq(c.max_attempts, 3);
	ck_assert_str_eq(c.log_level, "info");
}
END_TEST

START_TEST(test_load_resets_to_defaults)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	path = write_file("tq.ini", "[tq]\nbatch = 9\n", 0644);
	memset(&c, 0x5a, sizeof(c));
	ck_assert_msg(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.batch, 9);
	ck_assert_int_eq(c.prefetch, 32);
	ck_assert_str_eq(c.queue, "default");
}
END_TEST

START_TEST(test_load_other_sections_ignored)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	path = write_file("tq.ini",
	    "[pool a]\n"
	    "prefetch = 999999\n"
	    "no_such_key = whatever\n"
	    "queue_type = fifo\n"
	    "[tq]\n"
	    "batch = 5\n"
	    "[pool b]\n"
	    "batch = not a number\n"
	    "[tqx]\n"
	    "prefetch = 0\n", 0644);
	ck_assert_msg(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.prefetch, 32);
	ck_assert_int_eq(c.batch, 5);
	ck_assert_str_eq(c.queue_type, "classic");
}
END_TEST

START_TEST(test_load_unknown_key)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	path = write_file("tq.ini", "[tq]\nprefetch = 3\nprefech = 4\n", 0644);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
	ERR_HAS(err, "prefech");
	ERR_HAS(err, path);
}
END_TEST

START_TEST(test_load_bad_value)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	path = write_file("tq.ini", "[tq]\nqueue = q\nprefetch = lots\n",
	    0644);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
	ERR_HAS(err, path);
	ERR_HAS(err, "prefetch");
	ERR_HAS(err, "lots");
}
END_TEST

/*
 * config.h: "-1 with the reason (file, line, key) in err". For a bad value
 * the message names the file and the key but not the line: ini_cb formats
 * "<file>: <why>" and config_load returns before using ini_parse's result,
 * which is that very line number.
 */
START_TEST(test_load_bad_value_names_line)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	char *at, rest[TQ_ERRSZ];

	path = write_file("tq.ini", "[tq]\nqueue = q\n\nprefetch = lots\n",
	    0644);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
	ERR_HAS(err, "prefetch");
	/* The line (4) must be there apart from the path, whose random
	 * part might hold a 4; nothing else in the message does. */
	snprintf(rest, sizeof(rest), "%s", err);
	while ((at = strstr(rest, path)) != NULL)
		memset(at, '_', strlen(path));
	ck_assert_msg(strchr(rest, '4') != NULL, "no line number in: %s", err);
}
END_TEST

/*
 * amqp_url and mysql_url hold up to 1023 bytes, but the system inih is built
 * with INI_MAX_LINE 200: a longer line is cut at 199 bytes and the rest is
 * parsed as a line of its own. A 276-byte URL (a long password) fails with
 * 'unknown setting "ppp...@host"' (':' is also a key separator for inih),
 * and a remainder that is blank or starts with ';' or '#' is dropped
 * silently, truncating the value.
 */
START_TEST(test_load_long_value)
{
	struct config c;
	char err[TQ_ERRSZ] = "", url[400], text[600];
	const char *path;

	snprintf(url, sizeof(url), "amqp://user:%0250d@host:5672/%%2f", 0);
	ck_assert_uint_gt(strlen(url), 250);
	ck_assert_uint_lt(strlen(url), sizeof(c.amqp_url));
	/* config_set takes it */
	config_defaults(&c);
	ck_assert_msg(config_set(&c, "amqp_url", url, err, sizeof(err)) == 0,
	    "%s", err);
	snprintf(text, sizeof(text), "[tq]\namqp_url = %s\nprefetch = 5\n",
	    url);
	path = write_file("tq.ini", text, 0644);
	ck_assert_msg(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.amqp_url, url);
	ck_assert_int_eq(c.prefetch, 5);
}
END_TEST

START_TEST(test_load_syntax_error)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	path = write_file("tq.ini", "[tq]\nprefetch = 3\nthis is not ini\n"
	    "batch = 4\n", 0644);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
	ERR_HAS(err, path);
	ERR_HAS(err, ".ini:3:");

	path = write_file("tq2.ini", "[tq]\n\n\n\n[broken\nbatch = 4\n", 0644);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
	ERR_HAS(err, ".ini:5:");
}
END_TEST

START_TEST(test_load_missing_file)
{
	struct config c;
	char err[TQ_ERRSZ] = "", path[700];

	snprintf(path, sizeof(path), "%s/does-not-exist.ini", dir);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
	ERR_HAS(err, path);
}
END_TEST

START_TEST(test_load_no_file)
{
	struct config c;
	char err[TQ_ERRSZ] = "";

	ck_assert_msg(config_load(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.prefetch, 32);
}
END_TEST

START_TEST(test_env_overrides_file)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	path = write_file("tq.ini", "[tq]\nprefetch = 3\nbatch = 4\n"
	    "queue = fromfile\n", 0644);
	ck_assert_int_eq(setenv("TQ_PREFETCH", "7", 1), 0);
	ck_assert_int_eq(setenv("TQ_QUEUE", "fromenv", 1), 0);
	ck_assert_msg(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.prefetch, 7);
	ck_assert_str_eq(c.queue, "fromenv");
	ck_assert_int_eq(c.batch, 4);
	/* and without a file */
	ck_assert_msg(config_load(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.prefetch, 7);
	ck_assert_int_eq(c.batch, 32);
	/* The heartbeat's variable is not named after its key. */
	ck_assert_int_eq(setenv("TQ_AMQP_HEARTBEAT", "30", 1), 0);
	ck_assert_msg(config_load(&c, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.heartbeat_s, 30);
}
END_TEST

START_TEST(test_env_bad_value)
{
	struct config c;
	char err[TQ_ERRSZ] = "";

	ck_assert_int_eq(setenv("TQ_PREFETCH", "seven", 1), 0);
	ck_assert_int_eq(config_load(&c, NULL, err, sizeof(err)), -1);
	ERR_HAS(err, "TQ_PREFETCH");
	ck_assert_int_eq(setenv("TQ_PREFETCH", "", 1), 0);
	ck_assert_int_eq(config_load(&c, NULL, err, sizeof(err)), -1);
	ERR_HAS(err, "TQ_PREFETCH");
	ck_assert_int_eq(setenv("TQ_PREFETCH", "100000", 1), 0);
	ck_assert_int_eq(config_load(&c, NULL, err, sizeof(err)), -1);
	ERR_HAS(err, "TQ_PREFETCH");
	ERR_HAS(err, "too large");
	unsetenv("TQ_PREFETCH");
	ck_assert_int_eq(setenv("TQ_LEASE_MS", "1", 1), 0);
	ck_assert_int_eq(config_load(&c, NULL, err, sizeof(err)), -1);
	ERR_HAS(err, "TQ_LEASE_MS");
}
END_TEST

START_TEST(test_queue_type)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	path = write_file("tq.ini", "[tq]\nqueue_type = fifo\n", 0644);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
	ERR_HAS(err, "queue_type");
	ERR_HAS(err, "fifo");
	ck_assert_int_eq(setenv("TQ_QUEUE_TYPE", "stream", 1), 0);
	ck_assert_int_eq(config_load(&c, NULL, err, sizeof(err)), -1);
	ERR_HAS(err, "queue_type");
	ck_assert_int_eq(setenv("TQ_QUEUE_TYPE", "quorum", 1), 0);
	ck_assert_msg(config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.queue_type, "quorum");
}
END_TEST

START_TEST(test_backoff_cap_below_base)
{
	struct config c;
	char err[TQ_ERRSZ] = "";
	const char *path;

	path = write_file("tq.ini", "[tq]\nbackoff_base_ms = 5000\n"
	    "backoff_cap_ms = 4999\n", 0644);
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -1);
	ERR_HAS(err, "backoff_cap_ms");
	/* the default cap (300000) is below a big base too */
	ck_assert_int_eq(setenv("TQ_BACKOFF_BASE_MS", "300001", 1), 0);
	ck_assert_int_eq(config_load(&c, NULL, err, sizeof(err)), -1);
	ERR_HAS(err, "backoff_cap_ms");
}
END_TEST

/*
 * config_urls.
 */

static void
set(struct config *c, const char *k, const char *v)
{
	char err[TQ_ERRSZ];

	ck_assert_msg(config_set(c, k, v, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(test_urls)
{
	struct config c;
	struct url a, m;
	char err[TQ_ERRSZ] = "";

	config_defaults(&c);
	set(&c, "amqp_url", "amqps://bob:b0b@rabbit:5999/prod");
	set(&c, "mysql_url", "mysql://tq:sql@db:3307/tqdb");
	ck_assert_msg(config_urls(&c, &a, &m, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(a.scheme, URL_AMQPS);
	ck_assert_str_eq(a.user, "bob");
	ck_assert_str_eq(a.pass, "b0b");
	ck_assert_str_eq(a.host, "rabbit");
	ck_assert_int_eq(a.port, 5999);
	ck_assert_str_eq(a.path, "prod");
	ck_assert_int_eq(m.scheme, URL_MYSQL);
	ck_assert_str_eq(m.user, "tq");
	ck_assert_str_eq(m.pass, "sql");
	ck_assert_str_eq(m.host, "db");
	ck_assert_int_eq(m.port, 3307);
	ck_assert_str_eq(m.path, "tqdb");
	/* Either may be skipped. */
	ck_assert_int_eq(config_urls(&c, NULL, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(config_urls(&c, &a, NULL, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_urls_password_file)
{
	struct config c;
	struct url a, m;
	char err[TQ_ERRSZ] = "", path[700];

	config_defaults(&c);
	set(&c, "mysql_url", "mysql://tq:inurl@db/tq");
	snprintf(path, sizeof(path), "%s",
	    write_file("mysql.pw", "fr0m-f1le\n", 0600));
	set(&c, "mysql_password_file", path);
	ck_assert_msg(config_urls(&c, &a, &m, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(m.pass, "fr0m-f1le");
	ck_assert_str_eq(m.user, "tq");
	ck_assert_str_eq(a.pass, "guest");

	/* CRLF, read-only, amqp too */
	snprintf(path, sizeof(path), "%s",
	    write_file("amqp.pw", "p@ss:w\r\n", 0400));
	set(&c, "amqp_password_file", path);
	ck_assert_msg(config_urls(&c, &a, &m, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(a.pass, "p@ss:w");
	ck_assert_str_eq(m.pass, "fr0m-f1le");

	/* no newline at all */
	snprintf(path, sizeof(path), "%s",
	    write_file("mysql2.pw", "bare", 0600));
	set(&c, "mysql_password_file", path);
	ck_assert_msg(config_urls(&c, NULL, &m, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(m.pass, "bare");
}
END_TEST

START_TEST(test_urls_password_file_mode)
{
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0606, 0610,
	    0601 };
	struct config c;
	struct url m;
	char err[TQ_ERRSZ] = "", path[700];
	size_t i;

	config_defaults(&c);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(path, sizeof(path), "%s",
		    write_file("mysql.pw", "secret\n", modes[i]));
		set(&c, "mysql_password_file", path);
		err[0] = '\0';
		ck_assert_msg(config_urls(&c, NULL, &m, err, sizeof(err)) == -1,
		    "mode %o accepted", (unsigned)modes[i]);
		ERR_HAS(err, "readable");
		ERR_HAS(err, path);
		ck_assert(strstr(err, "secret") == NULL);
	}
}
END_TEST

START_TEST(test_urls_password_file_missing)
{
	struct config c;
	struct url m;
	char err[TQ_ERRSZ] = "", path[700];

	config_defaults(&c);
	snprintf(path, sizeof(path), "%s/nope.pw", dir);
	set(&c, "mysql_password_file", path);
	ck_assert_int_eq(config_urls(&c, NULL, &m, err, sizeof(err)), -1);
	ERR_HAS(err, path);
}
END_TEST

START_TEST(test_flag_url_password_refused)
{
	struct config c;
	char err[TQ_ERRSZ] = "";

	config_defaults(&c);
	ck_assert_int_eq(config_set_flag_url(&c, "amqp_url",
	    "amqp://u:hunter2@h/", err, sizeof(err)), -1);
	ERR_HAS(err, "--amqp-url");
	ERR_HAS(err, "amqp_password_file");
	ck_assert(strstr(err, "hunter2") == NULL);
	ck_assert(strstr(c.amqp_url, "hunter2") == NULL);
	ck_assert_int_eq(config_set_flag_url(&c, "mysql_url",
	    "mysql://u:hunter2@h/db", err, sizeof(err)), -1);
	ERR_HAS(err, "--mysql-url");
	ERR_HAS(err, "mysql_password_file");
	ck_assert_int_eq(config_set_flag_url(&c, "mysql_url",
	    "mysql://u@h/db", err, sizeof(err)), 0);
	ck_assert_str_eq(c.mysql_url, "mysql://u@h/db");
}
END_TEST

START_TEST(test_tls_settings)
{
	struct config c;
	char err[TQ_ERRSZ] = "", ca[700], key[700];

	snprintf(ca, sizeof(ca), "%s", write_file("ca.pem", "x\n", 0644));
	snprintf(key, sizeof(key), "%s", write_file("k.pem", "x\n", 0600));

	/* TLS options with TLS off are a mistake, said so */
	config_defaults(&c);
	set(&c, "amqp_tls_ca", ca);
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), -1);
	ERR_HAS(err, "amqps://");
	set(&c, "amqp_url", "amqps://u@h/");
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.amqp_tls_verify, 1);

	config_defaults(&c);
	ck_assert_int_eq(c.mysql_tls, 0);
	set(&c, "mysql_tls_ca", ca);
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), -1);
	ERR_HAS(err, "mysql_tls is off");
	set(&c, "mysql_tls", "yes");
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.mysql_tls_verify, 1);

	/* a certificate needs its key, and the key is a secret */
	set(&c, "mysql_tls_cert", ca);
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), -1);
	ERR_HAS(err, "go together");
	set(&c, "mysql_tls_key", key);
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), 0);
	chmod(key, 0640);
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), -1);
	ERR_HAS(err, "readable by group or others");
	chmod(key, 0600);

	/* a missing file is named */
	set(&c, "mysql_tls_ca", "/nonexistent/ca.pem");
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), -1);
	ERR_HAS(err, "/nonexistent/ca.pem");
	ERR_HAS(err, "mysql_tls_ca");
}
END_TEST

START_TEST(test_urls_wrong_scheme)
{
	struct config c;
	struct url a, m;
	char err[TQ_ERRSZ] = "";

	config_defaults(&c);
	set(&c, "amqp_url", "mysql://tq@db:3306/tq");
	ck_assert_int_eq(config_urls(&c, &a, &m, err, sizeof(err)), -1);
	ERR_HAS(err, "amqp_url");

	config_defaults(&c);
	set(&c, "mysql_url", "amqp://guest:guest@rabbit/%2f");
	ck_assert_int_eq(config_urls(&c, &a, &m, err, sizeof(err)), -1);
	ERR_HAS(err, "mysql_url");

	config_defaults(&c);
	set(&c, "amqp_url", "amqp://rabbit:0/%2f");
	ck_assert_int_eq(config_urls(&c, &a, &m, err, sizeof(err)), -1);
	ERR_HAS(err, "amqp_url");
	ERR_HAS(err, "port");

	config_defaults(&c);
	set(&c, "mysql_url", "mysql://tq@db:3306");
	ck_assert_int_eq(config_urls(&c, &a, &m, err, sizeof(err)), -1);
	ERR_HAS(err, "mysql_url");
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("set");
	TCase *tl = tcase_create("load");
	TCase *tu = tcase_create("urls");

	tcase_add_checked_fixture(tc, unset_env, unset_env);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_set);
	tcase_add_test(tc, test_set_unknown_key);
	tcase_add_test(tc, test_set_bounds);
	tcase_add_test(tc, test_set_not_a_number);
	tcase_add_test(tc, test_set_string_too_long);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(tl, root_setup, root_teardown);
	tcase_add_checked_fixture(tl, setup, teardown);
	tcase_add_test(tl, test_load_file);
	tcase_add_test(tl, test_load_resets_to_defaults);
	tcase_add_test(tl, test_load_other_sections_ignored);
	tcase_add_test(tl, test_load_unknown_key);
	tcase_add_test(tl, test_load_bad_value);
	tcase_add_test(tl, test_load_bad_value_names_line);
	tcase_add_test(tl, test_load_long_value);
	tcase_add_test(tl, test_load_syntax_error);
	tcase_add_test(tl, test_load_missing_file);
	tcase_add_test(tl, test_load_no_file);
	tcase_add_test(tl, test_env_overrides_file);
	tcase_add_test(tl, test_env_bad_value);
	tcase_add_test(tl, test_queue_type);
	tcase_add_test(tl, test_backoff_cap_below_base);
	suite_add_tcase(s, tl);

	tcase_add_unchecked_fixture(tu, root_setup, root_teardown);
	tcase_add_checked_fixture(tu, setup, teardown);
	tcase_add_test(tu, test_urls);
	tcase_add_test(tu, test_urls_password_file);
	tcase_add_test(tu, test_urls_password_file_mode);
	tcase_add_test(tu, test_urls_password_file_missing);
	tcase_add_test(tu, test_urls_wrong_scheme);
	tcase_add_test(tu, test_flag_url_password_refused);
	tcase_add_test(tu, test_tls_settings);
	suite_add_tcase(s, tu);
	return s;
}
