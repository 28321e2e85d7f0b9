/* log.c: the one place where lines are written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "tq";
static int log_syslog;
static enum log_level log_level = LOG_LVL_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_init(const char *ident, int to_syslog)
{
	const char *lv;
	int l;

	log_ident = ident;
	log_syslog = to_syslog;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if ((lv = getenv("TQ_LOG_LEVEL")) != NULL &&
	    (l = log_parselevel(lv)) != -1)
		log_level = (enum log_level)l;
}

void
log_setlevel(enum log_level l)
{
	log_level = l;
}

int
log_parselevel(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static void
log_vwrite(enum log_level l, const char *fmt, va_list ap, int with_errno)
{
	static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
	char msg[2048], ts[32];
	struct timespec now;
	struct tm tm;
	int saved = errno;
	size_t n;

	if (l < log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	if (log_syslog) {
		syslog(prio[l], "level=%s %s", level_names[l], msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line: lines from concurrent processes stay whole. */
	fprintf(stderr, "%s.%03ldZ %s[%d] level=%s %s\n", ts,
	    now.tv_nsec / 1000000, log_ident, (int)getpid(), level_names[l], msg);
	errno = saved;
}

#define LOG_FN(fn, lvl, e)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_vwrite(lvl, fmt, ap, e);				\
	va_end(ap);						\
}

LOG_FN(log_debug, LOG_LVL_DEBUG, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_error, LOG_LVL_ERROR, 0)

void
log_fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, fmt, ap, 0);
	va_end(ap);
	exit(code);
}
