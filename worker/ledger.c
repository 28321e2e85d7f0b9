/*
 * ledger.c: the execution ledger (TQ_LEDGER_DIR), one line per run and
 * per recorded outcome as this process saw them, kept apart from MySQL
 * so that the chaos checker trusts only what it keeps itself.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "worker_int.h"

void
ledger_open(void)
{
	const char *dir = getenv("TQ_LEDGER_DIR");
	char path[1024];

	W.ledger = -1;
	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/worker-%s-%d.log", dir, node_name(),
	    (int)getpid());
	if ((W.ledger = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1)
		log_warn("ledger \"%s\"", path);
}

void
ledger(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	if (W.ledger == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(W.ledger, line, (size_t)n) != n)
		log_warn("ledger write");
}

void
ledger_batch(void)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i;

	for (i = 0; i < W.njobs; i++) {
		struct job *j = &W.jobs[i];

		uuid_fmt(&j->c.id, idtxt);
		ledger("run %s %llu %u %s %zu %016llx %lld\n", idtxt,
		    (unsigned long long)j->c.fence, j->c.attempt,
		    j->ok ? "ok" : "fail", j->result.len,
		    (unsigned long long)fnv64(j->result.data ? j->result.data :
		    "", j->result.len), (long long)wall_ms());
	}
}

/* A handler's start and its return, as they happen (from the handler
 * thread): the checker measures how many executions of a limit key
 * overlapped in time. A run with a "begin" and no "end" was cut short
 * by the death of its process; "end ... fenced", stopped because its
 * lease was not vouched for (runner_fence). */
void
ledger_begin(const struct job *j)
{
	char idtxt[UUID_STRLEN + 1];

	if (W.ledger == -1)
		return;
	uuid_fmt(&j->c.id, idtxt);
	ledger("begin %s %llu %lld %s\n", idtxt,
	    (unsigned long long)j->c.fence, (long long)wall_ms(),
	    j->c.limit_key[0] != '\0' ? j->c.limit_key : "-");
}

void
ledger_end(const struct job *j)
{
	char idtxt[UUID_STRLEN + 1];

	if (W.ledger == -1)
		return;
	uuid_fmt(&j->c.id, idtxt);
	ledger("end %s %llu %lld%s\n", idtxt, (unsigned long long)j->c.fence,
	    (long long)wall_ms(), j->fenced ? " fenced" : "");
}
