/* util.h: small helpers shared by every module. */
#ifndef TQ_UTIL_H
#define TQ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes (s6/beanstalkd convention). */
#define EXIT_TASKFAIL	1	/* a task ended other than succeeded */
#define EXIT_USAGE	2
#define EXIT_TIMEOUT	124
#define EXIT_PERM	100	/* permanent: bad config, bad input */
#define EXIT_TEMP	111	/* temporary: a service is unreachable */

#define TQ_ERRSZ	512

/* Milliseconds on the monotonic clock. */
int64_t	now_ms(void);
/* Milliseconds since the epoch. */
int64_t	wall_ms(void);
/* Sleeps ms milliseconds, resuming after signals. */
void	sleep_ms(int64_t ms);
/* Uniform random in [0, n) from a per-process generator seeded by getrandom. */
uint64_t rand_below(uint64_t n);
/* Fills buf with n random bytes; 0 or -1. */
int	rand_bytes(void *buf, size_t n);
/* Exponential backoff with full jitter: random in [0, min(cap, base*2^n)]. */
int64_t	backoff_ms(int64_t base, int64_t cap, unsigned n);

/* A TCP connection to a server: a peer that vanished without a word (a
 * host or container gone, a cable cut) is given up when data sent to it
 * stays unacknowledged for timeout_ms, and an idle connection is probed
 * (keepalive) so that its next use fails at once. Best effort. */
void	tcp_dead_peer(int fd, int timeout_ms);
#define TCP_DEAD_PEER_MS	5000

/* One request from a peer just accepted: send and receive time out after
 * timeout_ms (a peer that sends nothing cannot hold a loop long), then one
 * read into buf, NUL-terminated. The bytes read, or 0/-1 (close fd). */
ssize_t	read_request(int fd, char *buf, size_t size, int timeout_ms);

/* At most one message per interval for a repeating failure: say returns 1
 * when this one should be logged, with *skipped set to how many were held
 * back since the last. */
struct ratelimit {
	int64_t		next;
	unsigned	skipped;
};
int	ratelimit_say(struct ratelimit *, int64_t now, int64_t interval,
	    unsigned *skipped);

/* The value of a hex digit, or -1. */
int	hexval(char);
/* Splits s in place on blanks into v (NULL-terminated, at most max - 1
 * words); returns the count. For command lines: no shell, no quoting. */
int	split_words(char *s, char **v, int max);

/* FNV-1a, 64 bits: ledgers and the chaos handler's digest. */
uint64_t fnv64(const void *, size_t);

/* A growable byte buffer. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
#define BUF_INIT { NULL, 0, 0 }

int	buf_reserve(struct buf *, size_t extra);
int	buf_append(struct buf *, const void *, size_t);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_reset(struct buf *);
void	buf_release(struct buf *);

/* Reads a whole file (or stdin for "-") up to max bytes; -1 with errno,
 * EFBIG when larger than max. */
int	read_file(const char *path, size_t max, struct buf *out);

/* Parses a decimal in [min, max]; 0 or -1 with *errstr set. */
int	parse_num(const char *s, long long min, long long max, long long *out,
	    const char **errstr);

/* Parses a duration: a decimal with a unit ms, s, m, h or d (none:
 * seconds), into milliseconds in [0, max_ms]; 0 or -1 with *errstr. */
int	parse_duration(const char *s, long long max_ms, long long *out,
	    const char **errstr);

/* This node's name: node_set's, else $TQ_NODE, else the host name. */
const char *node_name(void);
void	node_set(const char *);

#endif
