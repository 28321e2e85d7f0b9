/* log.h: one line per event, logfmt-friendly, stderr or syslog. */
#ifndef TQ_LOG_H
#define TQ_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* ident names the program in each line; to_syslog sends lines to syslog. */
void	log_init(const char *ident, int to_syslog);
void	log_setlevel(enum log_level);
/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int	log_parselevel(const char *);

void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)". */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits with code; only programs' top levels call it. */
void	log_fatalx(int code, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#endif
