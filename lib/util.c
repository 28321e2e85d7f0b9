/* util.c: clocks, randomness, buffers, numbers. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>


#include "util.h"

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
rand_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* xorshift64*, seeded per process (and again after fork by pid check). */
static uint64_t rng_state;
static pid_t rng_pid;

static uint64_t
rng_next(void)
{
	if (rng_state == 0 || rng_pid != getpid()) {
		if (rand_bytes(&rng_state, sizeof(rng_state)) == -1)
			rng_state = (uint64_t)wall_ms() ^ (uint64_t)getpid();
		rng_state |= 1;
		rng_pid = getpid();
	}
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

uint64_t
rand_below(uint64_t n)
{
	if (n == 0)
		return 0;
	return rng_next() % n;
}

int64_t
backoff_ms(int64_t base, int64_t cap, unsigned n)
{
	int64_t top = base;

	if (base <= 0)
		return 0;
	while (n-- > 0 && top < cap)
		top *= 2;
	if (top > cap)
		top = cap;
	return (int64_t)rand_below((uint64_t)top + 1);
}

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t ncap;
	char *p;

	if (b->len + extra + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + extra + 1) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
read_file(const char *path, size_t max, struct buf *out)
{
	char chunk[65536];
	ssize_t n;
	int fd, saved;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len + (size_t)n > max) {
			n = -1;
			errno = EFBIG;
			break;
		}
		if (buf_append(out, chunk, (size_t)n) == -1) {
			n = -1;
			break;
		}
	}
	saved = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	errno = saved;
	if (n == -1)
		return -1;
	if (out->data == NULL && buf_append(out, "", 0) == -1)
		return -1;
	return 0;
}

int
parse_num(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	long long v;

	if (s == NULL) {
		*errstr = "invalid";
		return -1;
	}
	v = strtonum(s, min, max, errstr);
	if (*errstr != NULL)
		return -1;
	*out = v;
	return 0;
}

int
parse_duration(const char *s, long long max_ms, long long *out,
    const char **errstr)
{
	static const struct {
		const char	*unit;
		long long	 ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "", 1000 },
	};
	char num[32];
	size_t len, i, ul;
	long long n;

	if (s == NULL || (len = strlen(s)) == 0 || len >= sizeof(num)) {
		*errstr = "not a duration";
		return -1;
	}
	/* The last unit, "", matches any string: seconds. */
	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++) {
		ul = strlen(units[i].unit);
		if (len > ul && strcmp(s + len - ul, units[i].unit) == 0)
			break;
	}
	ul = strlen(units[i].unit);
	memcpy(num, s, len - ul);
	num[len - ul] = '\0';
	if (parse_num(num, 0, max_ms / units[i].ms, &n, errstr) == -1)
		return -1;
	*out = n * units[i].ms;
	return 0;
}

static char name[65];

void
node_set(const char *s)
{
	if (s != NULL && *s != '\0')
		snprintf(name, sizeof(name), "%s", s);
}

const char *
node_name(void)
{
	const char *env;

	if (name[0] != '\0')
		return name;
	if ((env = getenv("TQ_NODE")) != NULL && *env != '\0')
		snprintf(name, sizeof(name), "%s", env);
	else if (gethostname(name, sizeof(name)) == -1)
		snprintf(name, sizeof(name), "node");
	name[sizeof(name) - 1] = '\0';
	return name;
}

uint64_t
fnv64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;

	while (n--) {
		h ^= *s++;
		h *= 1099511628211ULL;
	}
	return h;
}

int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
split_words(char *s, char **v, int max)
{
	char *p, *save = NULL;
	int n = 0;

	for (p = strtok_r(s, " \t", &save); p && n < max - 1;
	    p = strtok_r(NULL, " \t", &save))
		v[n++] = p;
	v[n] = NULL;
	return n;
}

int
ratelimit_say(struct ratelimit *r, int64_t now, int64_t interval,
    unsigned *skipped)
{
	if (now < r->next) {
		r->skipped++;
		return 0;
	}
	*skipped = r->skipped;
	r->skipped = 0;
	r->next = now + interval;
	return 1;
}

void
tcp_dead_peer(int fd, int timeout_ms)
{
	int on = 1, idle = timeout_ms / 1000 > 0 ? timeout_ms / 1000 : 1;
	int intvl = idle / 2 > 0 ? idle / 2 : 1, cnt = 3;
	unsigned int ut = (unsigned int)timeout_ms;

	if (fd < 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
}

ssize_t
read_request(int fd, char *buf, size_t size, int timeout_ms)
{
	struct timeval tv;
	ssize_t n;

	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((n = read(fd, buf, size - 1)) > 0)
		buf[n] = '\0';
	return n;
}
