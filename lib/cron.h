/* cron.h: cron expressions: the standard five fields (minute hour day
 * month weekday), or six with a leading seconds field. Each field takes
 * *, N, A-B, lists (A,B) and steps (*\/S, A-B/S); months and weekdays also
 * take names (jan, mon). Day of month and weekday combine as in cron: when
 * both are restricted, either matching is enough. Times are UTC. */
#ifndef TQ_CRON_H
#define TQ_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cron {
	uint64_t	sec;		/* bit per second 0..59 */
	uint64_t	min;
	uint32_t	hour;
	uint32_t	mday;		/* bits 1..31 */
	uint16_t	mon;		/* bits 1..12 */
	uint8_t		wday;		/* bits 0..6, Sunday 0 (7 allowed) */
	int		mday_star, wday_star;
	int		has_sec;
};

/* 0, or -1 with the reason in err. */
int	cron_parse(const char *, struct cron *, char *err, size_t errsz);
/* The first matching second strictly after t, or -1 when none within
 * five years. */
time_t	cron_next(const struct cron *, time_t t);

#endif
