/* uuid.h: UUIDv7 task ids, 16 bytes, time-ordered (RFC 9562). */
#ifndef TQ_UUID_H
#define TQ_UUID_H

#include <stdint.h>

#define UUID_LEN	16
#define UUID_STRLEN	36	/* without the NUL */

struct uuid {
	uint8_t	b[UUID_LEN];
};

/* A new v7 id; ids made by one process are strictly increasing. 0 or -1. */
int	uuid_v7(struct uuid *);
/* Canonical lowercase text, out has UUID_STRLEN + 1 bytes. */
void	uuid_fmt(const struct uuid *, char *out);
/* Parses the canonical form (either case); 0 or -1. */
int	uuid_parse(const char *, struct uuid *);
int	uuid_cmp(const struct uuid *, const struct uuid *);
/* Milliseconds since the epoch stored in a v7 id. */
int64_t	uuid_v7_ms(const struct uuid *);

#endif
