/* policy.h: restart policy, kept pure so that it can be tested alone. */
#ifndef TQ_POLICY_H
#define TQ_POLICY_H

#include <stdint.h>

#define RESTART_LOG	256

/* Delay before restarting a slot whose worker died after quick
 * consecutive short lives: 0 for the first, then 100 ms doubling to
 * cap_ms, jittered by up to a quarter. */
int64_t	restart_delay(unsigned quick, int64_t cap_ms);

/* OTP's intensity/period for a pool: restart times in a ring. */
struct intensity {
	int64_t		at[RESTART_LOG];
	unsigned	head, n;
};

/* Records a restart at now; returns 1 when more than max restarts fell
 * within the last period_ms (the pool is failing). */
int	intensity_add(struct intensity *, int64_t now, unsigned max,
	    int64_t period_ms);
/* Restarts within the period, as of now. */
unsigned intensity_count(const struct intensity *, int64_t now,
	    int64_t period_ms);
void	intensity_reset(struct intensity *);

#endif
