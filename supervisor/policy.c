/* policy.c: when to restart, and when to stop trying for a while. */
#include <string.h>

#include "policy.h"
#include "util.h"

int64_t
restart_delay(unsigned quick, int64_t cap_ms)
{
	int64_t d = 100;

	if (quick == 0)
		return 0;
	while (--quick > 0 && d < cap_ms)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	return d - (int64_t)rand_below((uint64_t)d / 4 + 1);
}

unsigned
intensity_count(const struct intensity *in, int64_t now, int64_t period_ms)
{
	unsigned i, c = 0;

	for (i = 0; i < in->n; i++)
		if (now - in->at[(in->head + RESTART_LOG - 1 - i) %
		    RESTART_LOG] < period_ms)
			c++;
	return c;
}

int
intensity_add(struct intensity *in, int64_t now, unsigned max,
    int64_t period_ms)
{
	in->at[in->head] = now;
	in->head = (in->head + 1) % RESTART_LOG;
	if (in->n < RESTART_LOG)
		in->n++;
	return intensity_count(in, now, period_ms) > max;
}

void
intensity_reset(struct intensity *in)
{
	memset(in, 0, sizeof(*in));
}
