/*
 * fuzz_config.c: the configuration file. The input is written to a memfd
 * and read through /proc/self/fd/N by
 *  - config_load (lib/config.c): on success every integer is within its
 *    key's bounds and every string is terminated within its field; the
 *    loaded config then goes through config_dump (URL redaction) and
 *    config_amqp_urls (password files cleared: no reads of random paths);
 *  - inifile_parse (lib/inifile.c) directly, with a callback that checks
 *    what it is given: a non-empty key without '=', key and value trimmed,
 *    a section shorter than 256 bytes. inifile.h promises an error for
 *    lines longer than 8 KiB, and inifile.c for a NUL byte: an input with
 *    a NUL byte, or a line over 8192 bytes, must be refused.
 * FUZZ_SKIP=ini-nul leaves out the NUL check (a known finding).
 * The TQ_* environment variables, which config_load reads after the file,
 * are removed at start.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "inifile.h"
#include "task.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

extern char **environ;

static int memfd = -1;
static char path[64];
static FILE *devnull;
static int skip_nul;


static void __attribute__((noreturn))
fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_config: invariant violated: %s%s%s\n", what,
	    detail ? ": " : "", detail ? detail : "");
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char name[256];
	size_t n;
	int again = 1;

	(void)argc;
	(void)argv;
	while (again) {
		again = 0;
		for (char **e = environ; e && *e; e++) {
			if (strncmp(*e, "TQ_", 3) != 0)
				continue;
			n = strcspn(*e, "=");
			if (n >= sizeof(name))
				continue;
			memcpy(name, *e, n);
			name[n] = '\0';
			unsetenv(name);
			again = 1;
			break;
		}
	}
	if ((memfd = memfd_create("fuzz_config", MFD_CLOEXEC)) == -1) {
		perror("memfd_create");
		exit(1);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	skip_nul = skipped("ini-nul");
	if ((devnull = fopen("/dev/null", "w")) == NULL) {
		perror("/dev/null");
		exit(1);
	}
	return 0;
}

struct ini_state {
	int	calls;
};

static int
ini_check(void *arg, const char *section, const char *key, const char *value,
    char *err, size_t errsz)
{
	struct ini_state *st = arg;
	size_t kl = strlen(key), vl = strlen(value);

	st->calls++;
	if (strlen(section) >= 256)
		fail("section of 256 bytes or more", section);
	if (kl == 0)
		fail("empty key", NULL);
	if (strchr(key, '=') != NULL)
		fail("key contains '='", key);
	if (strchr(key, '\n') || strchr(value, '\n'))
		fail("newline in key or value", key);
	if (key[0] == ' ' || key[0] == '\t' || key[kl - 1] == ' ' ||
	    key[kl - 1] == '\t' || key[kl - 1] == '\r')
		fail("key not trimmed", key);
	if (vl > 0 && (value[0] == ' ' || value[0] == '\t' ||
	    value[vl - 1] == ' ' || value[vl - 1] == '\t' ||
	    value[vl - 1] == '\r'))
		fail("value not trimmed", value);
	if (kl > 8192 || vl > 8192)
		fail("key or value longer than a line", key);
	/* Exercise the error path too, on a rare key. */
	if (strcmp(key, "fail") == 0) {
		snprintf(err, errsz, "refused");
		return -1;
	}
	return 0;
}

static void
check_config(const struct config *c)
{
	const struct config_key *k;
	const char *p = (const char *)c;
	long long v;

	for (k = config_keys; k->name; k++) {
		if (k->type == CT_STR) {
			if (memchr(p + k->off, '\0', k->size) == NULL)
				fail("unterminated string", k->name);
		} else if (k->type == CT_INT) {
			memcpy(&v, p + k->off, sizeof(v));
			if (v < k->min || v > k->max)
				fail("integer out of bounds", k->name);
		}
	}
	if (!task_name_ok(c->queue, TASK_QUEUE_MAX))
		fail("bad queue name accepted", c->queue);
	if (c->backoff_cap_ms < c->backoff_base_ms)
		fail("backoff_cap_ms < backoff_base_ms accepted", NULL);
}

/* Whether the input has a line longer than 8192 bytes ('\n' aside). */
static int
long_line(const uint8_t *data, size_t size)
{
	size_t i, run = 0;

	for (i = 0; i < size; i++) {
		if (data[i] == '\n')
			run = 0;
		else if (++run > 8192)
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct ini_state st;
	struct url urls[8];
	char err[1024];
	int r, i, n;

	if (size > 64 * 1024)
		return 0;
	if (ftruncate(memfd, 0) == -1 ||
	    (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
		perror("memfd write");
		abort();
	}

	err[0] = '\0';
	if (config_load(&c, path, err, sizeof(err)) == 0) {
		check_config(&c);
		config_dump(&c, devnull);
		c.amqp_password_file[0] = '\0';
		c.mysql_password_file[0] = '\0';
		n = config_amqp_urls(&c, urls, 8, err, sizeof(err));
		for (i = 0; i < n; i++)
			url_clear(&urls[i]);
	} else if (err[0] == '\0')
		fail("config_load failed without a reason", NULL);

	memset(&st, 0, sizeof(st));
	err[0] = '\0';
	r = inifile_parse(path, ini_check, &st, err, sizeof(err));
	if (r != 0 && err[0] == '\0')
		fail("inifile_parse failed without a reason", NULL);
	/* FUZZ_SKIP=ini-nul: inputs with a NUL byte are not checked (a NUL
	 * also hides an over-long line). */
	if (skip_nul && memchr(data, '\0', size) != NULL)
		return 0;
	if (r == 0 && memchr(data, '\0', size) != NULL)
		fail("NUL byte accepted (inifile.c's NUL check never fires)",
		    NULL);
	if (r == 0 && long_line(data, size))
		fail("line longer than 8192 bytes accepted", NULL);
	return 0;
}
