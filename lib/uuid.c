/* uuid.c: UUIDv7 with a 12-bit sub-millisecond counter (RFC 9562 method 1)
 * so that ids from one process sort in creation order even within a ms. */
#include <string.h>

#include "util.h"
#include "uuid.h"

static int64_t last_ms;
static uint16_t last_seq;

int
uuid_v7(struct uuid *u)
{
	int64_t ms = wall_ms();
	uint16_t seq;

	if (rand_bytes(u->b, sizeof(u->b)) == -1)
		return -1;
	if (ms <= last_ms) {
		/* Same (or earlier) ms: bump the counter, borrow a ms on overflow. */
		ms = last_ms;
		if (++last_seq > 0x0fff) {
			ms++;
			last_seq = 0;
		}
	} else
		last_seq = (uint16_t)((u->b[6] << 8 | u->b[7]) & 0x03ff);
	last_ms = ms;
	seq = last_seq;
	u->b[0] = (uint8_t)(ms >> 40);
	u->b[1] = (uint8_t)(ms >> 32);
	u->b[2] = (uint8_t)(ms >> 24);
	u->b[3] = (uint8_t)(ms >> 16);
	u->b[4] = (uint8_t)(ms >> 8);
	u->b[5] = (uint8_t)ms;
	u->b[6] = (uint8_t)(0x70 | (seq >> 8));
	u->b[7] = (uint8_t)seq;
	u->b[8] = (uint8_t)(0x80 | (u->b[8] & 0x3f));
	return 0;
}

void
uuid_fmt(const struct uuid *u, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[u->b[i] >> 4];
		out[o++] = hex[u->b[i] & 0xf];
	}
	out[o] = '\0';
}

int
uuid_parse(const char *s, struct uuid *u)
{
	size_t i, o = 0;
	int hi, lo;

	if (strlen(s) != UUID_STRLEN)
		return -1;
	for (i = 0; i < UUID_STRLEN;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -1;
			continue;
		}
		if ((hi = hexval(s[i])) == -1 || (lo = hexval(s[i + 1])) == -1)
			return -1;
		u->b[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

int
uuid_cmp(const struct uuid *a, const struct uuid *b)
{
	return memcmp(a->b, b->b, UUID_LEN);
}

int64_t
uuid_v7_ms(const struct uuid *u)
{
	int64_t ms = 0;
	int i;

	for (i = 0; i < 6; i++)
		ms = ms << 8 | u->b[i];
	return ms;
}
